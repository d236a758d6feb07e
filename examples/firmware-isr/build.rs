//! Picks the QEMU board for the target (mps2 for thumbv7m/thumbv7em, microbit for thumbv6m,
//! virt for riscv32): sets `cfg(board = "...")` and puts the board's memory map where the
//! linker finds it, as `memory.x`. One crate, four QEMU machines.

use std::{env, fs, path::PathBuf};

fn main() {
    let target = env::var("TARGET").expect("cargo sets TARGET");
    let board = match target.as_str() {
        "thumbv6m-none-eabi" => "microbit",
        "thumbv7m-none-eabi" | "thumbv7em-none-eabi" | "thumbv7em-none-eabihf" => "mps2",
        t if t.starts_with("riscv32") => "virt",
        t => panic!("no QEMU machine for target {t}: use thumbv6m, thumbv7m, thumbv7em or riscv32"),
    };
    // `cfg(board = "...")` picks the tick source in the code.
    println!("cargo::rustc-check-cfg=cfg(board, values(\"microbit\", \"mps2\", \"virt\"))");
    println!("cargo::rustc-cfg=board=\"{board}\"");
    let map = format!("memory/{board}.x");
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    fs::copy(&map, out.join("memory.x")).expect("copy the memory map");
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rerun-if-changed={map}");
}
