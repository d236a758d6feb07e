#!/usr/bin/env bash
# Builds the README's firmware quick start exactly as written, as a crate outside the workspace,
# for thumbv6m-none-eabi, thumbv7em-none-eabihf and riscv32imc-unknown-none-elf. The script takes
# the first ```toml and the first ```rust (```rust,ignore) block under "## Firmware quick start" verbatim; it adds
# only what the README tells the user to add (a package header, the chip's memory.x, the linker
# arguments) and a [patch.crates-io] entry pointing promstack-core at this checkout (it is not
# published). Nothing in the two blocks is edited.
#
# Usage: ci/readme-firmware.sh
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tdir=${CARGO_TARGET_DIR:-$root/target}
crate=$tdir/readme-firmware
rm -rf "$crate/src"
mkdir -p "$crate/src" "$crate/.cargo"

# $1: the fence language; prints the first such block of the firmware section.
block() {
  awk -v lang="$1" '
    /^## Firmware quick start/ { inside = 1; next }
    inside && /^## / { exit }
    inside && !done && index($0, "```" lang) == 1 { grab = 1; next }
    grab && /^```$/ { grab = 0; done = 1; next }
    grab { print }
  ' "$root/README.md"
}

deps=$(block toml)
main=$(block rust)
if [ -z "$deps" ] || [ -z "$main" ]; then
  echo "readme-firmware: the README's firmware quick start has no toml or rust block" >&2
  exit 1
fi

{
  printf '[package]\nname = "readme-firmware"\nversion = "0.1.0"\nedition = "2021"\npublish = false\n\n'
  printf '%s\n' "$deps"
  printf '\n[patch.crates-io]\npromstack-core = { path = "%s/core" }\n' "$root"
  printf '\n[profile.release]\nopt-level = "z"\nlto = true\n\n[workspace]\n'
} >"$crate/Cargo.toml"
printf '%s\n' "$main" >"$crate/src/main.rs"
cat >"$crate/.cargo/config.toml" <<'TOML'
[target.'cfg(target_arch = "arm")']
rustflags = ["-C", "link-arg=-Tlink.x"]
[target.riscv32imc-unknown-none-elf]
rustflags = ["-C", "link-arg=-Tmemory.x", "-C", "link-arg=-Tlink.x"]
TOML

# The memory maps of the QEMU boards the interrupt test runs on stand in for "your chip".
declare -A map=(
  [thumbv6m-none-eabi]=microbit
  [thumbv7em-none-eabihf]=mps2
  [riscv32imc-unknown-none-elf]=virt
)
for t in thumbv6m-none-eabi thumbv7em-none-eabihf riscv32imc-unknown-none-elf; do
  echo "== readme firmware: $t" >&2
  cp "$root/examples/firmware-isr/memory/${map[$t]}.x" "$crate/memory.x"
  (cd "$crate" && cargo build --release --target "$t" --target-dir "$tdir/readme-firmware-target")
  elf=$tdir/readme-firmware-target/$t/release/readme-firmware
  [ -s "$elf" ] || { echo "readme firmware: no ELF for $t" >&2; exit 1; }
  size -B "$elf" | tail -1 >&2
done
echo "readme firmware: built as written for all targets"
