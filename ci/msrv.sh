#!/usr/bin/env bash
# The minimum supported Rust version (`rust-version` in Cargo.toml) holds.
#
# With the MSRV toolchain installed (or installable by rustup), the library crates are checked
# with it: `cargo +MSRV check` for the host with every feature, and promstack-core for a no_std
# target. Without it (some build machines cannot fetch toolchains), the check falls back to
# clippy's `incompatible_msrv` lint, which reads `rust-version` and rejects every use of a std/core
# API stabilised after it, on every library crate with all features. The fallback says so
# loudly: it does not catch language features newer than the MSRV.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

msrv=$(sed -n 's/^rust-version = "\(.*\)"/\1/p' Cargo.toml)
[ -n "$msrv" ] || { echo "no rust-version in Cargo.toml" >&2; exit 1; }
libs=(-p promstack-core -p promstack-alloc -p promstack)

have_toolchain() { rustup run "$msrv" rustc --version >/dev/null 2>&1; }
if ! have_toolchain; then
  timeout 300 rustup toolchain install --profile minimal "$msrv" >/dev/null 2>&1 || true
fi

if have_toolchain; then
  echo "MSRV $msrv: checking with rustc $(rustup run "$msrv" rustc --version)"
  # A separate target dir: artefacts of two compilers do not mix.
  export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/target}/msrv
  cargo +"$msrv" check "${libs[@]}" --all-features
  rustup +"$msrv" target add thumbv7em-none-eabihf >/dev/null 2>&1 || true
  cargo +"$msrv" check -p promstack-core --no-default-features --target thumbv7em-none-eabihf
else
  echo "MSRV $msrv: the toolchain is not installed and rustup cannot fetch it here;"
  echo "checking API use against rust-version with clippy::incompatible_msrv instead"
  echo "(language features newer than $msrv are NOT checked by this fallback)"
  cargo clippy "${libs[@]}" --all-features -- -A clippy::all -D clippy::incompatible_msrv
  cargo clippy -p promstack-core --no-default-features --target thumbv7em-none-eabihf -- \
    -A clippy::all -D clippy::incompatible_msrv
fi
