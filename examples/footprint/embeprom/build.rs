//! Puts the shared mps2 memory map (../memory.x) and device.x (../device.x) where the linker
//! finds them; cortex-m-rt's link.x includes both.

use std::{env, fs, path::PathBuf};

fn main() {
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    fs::write(out.join("memory.x"), include_bytes!("../memory.x")).expect("write memory.x");
    fs::write(out.join("device.x"), include_bytes!("../device.x")).expect("write device.x");
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rerun-if-changed=../device.x");
    println!("cargo:rerun-if-changed=../memory.x");
}
