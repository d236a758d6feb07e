#!/usr/bin/env bash
# promstack's cargo features: the crate builds (and passes clippy) with no feature and with each
# feature alone, and without features it depends on nothing beyond promstack-core,
# promstack-alloc and their own dependencies (plus embedded-io-adapters, which has none).
# cargo-hack is installed on first use into the target directory.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

crates() { cargo tree -e normal --prefix none --format '{p}' "$@" | awk '{ print $1 }' | sort -u; }
allowed=$(crates -p promstack-alloc --features std)
extra=$(comm -13 <(echo "$allowed") <(crates -p promstack --no-default-features) |
  grep -vxE 'promstack|embedded-io-adapters' || true)
if [ -n "$extra" ]; then
  echo "promstack without features depends on more than promstack-core and promstack-alloc:"
  echo "$extra"
  exit 1
fi
echo "promstack --no-default-features: only promstack-core, promstack-alloc and their dependencies"

tools=$(realpath -m "${CARGO_TARGET_DIR:-target}")/tools
if [ ! -x "$tools/bin/cargo-hack" ]; then
  cargo install -q --locked --root "$tools" cargo-hack --version 0.6.46
fi
PATH=$tools/bin:$PATH cargo hack clippy -p promstack --each-feature --no-dev-deps -- -D warnings
# The no_std crates too: each feature alone, on the host (cross builds are their own steps).
PATH=$tools/bin:$PATH cargo hack clippy -p promstack-core -p promstack-alloc --each-feature --no-dev-deps -- -D warnings
