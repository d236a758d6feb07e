//! Puts the memory map of the board this target runs on where the linker finds it, as
//! `memory.x` (the runtime crates' link.x includes it): one crate, four QEMU machines.

use std::{env, fs, path::PathBuf};

fn main() {
    let target = env::var("TARGET").expect("cargo sets TARGET");
    let map = match target.as_str() {
        "thumbv6m-none-eabi" => "memory/microbit.x",
        "thumbv7m-none-eabi" | "thumbv7em-none-eabi" | "thumbv7em-none-eabihf" => "memory/mps2.x",
        t if t.starts_with("riscv32") => "memory/virt.x",
        t => panic!("no QEMU machine for target {t}: use thumbv6m, thumbv7m, thumbv7em or riscv32"),
    };
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    fs::copy(map, out.join("memory.x")).expect("copy the memory map");
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rerun-if-changed={map}");
}
