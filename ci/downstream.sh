#!/usr/bin/env bash
# Builds crates outside the workspace the way users depend on promstack, to prove the choices
# that belong to the binary stay with the binary:
#   examples/downstream/own-critical-section  a std binary with its own critical-section
#                                             implementation links and runs beside promstack
#                                             (no duplicate `_critical_section_1_0_*` symbols)
#   examples/downstream/single-core           promstack-core with the user's portable-atomic
#                                             `unsafe-assume-single-core`, for every no_std target
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tdir=${CARGO_TARGET_DIR:-$root/target}
targets=(thumbv6m-none-eabi thumbv7em-none-eabihf riscv32imc-unknown-none-elf)

(cd "$root/examples/downstream/own-critical-section" && cargo run --target-dir "$tdir")
for t in "${targets[@]}"; do
  echo "single-core build for $t"
  (cd "$root/examples/downstream/single-core" && cargo build --locked --target-dir "$tdir" --target "$t")
done
echo "downstream: all builds ok"
