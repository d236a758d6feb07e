#!/usr/bin/env bash
# Runs promstack's cargo-fuzz targets (fuzz/): each for a time, or for a number of inputs.
#
# Usage: ci/fuzz.sh [SECONDS] [TARGET...]     each target for SECONDS (default 60)
#        ci/fuzz.sh --runs N [TARGET...]      each target for N inputs (the long run, e.g. 10000000)
#        ci/fuzz.sh --list                    print the target names
#        FUZZ_SANITIZER=none ci/fuzz.sh ...    without ASan (faster; for long runs)
#
# Needs the nightly toolchain and cargo-fuzz; installs whichever is missing (rustup, cargo install)
# and fails loudly when it cannot. Inputs that crash are kept in fuzz/artifacts/<target>/; the
# script runs every target and exits 1 if any crashed. New interesting inputs go to the working
# corpus fuzz/corpus/<target>/ (not committed); fuzz/seeds/<target>/ is the committed seed set.
# The build goes to $CARGO_TARGET_DIR/fuzz (default target/fuzz).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

targets=(parse_text parse_openmetrics roundtrip)
limit=(-max_total_time=60)
case "${1-}" in
  --list)
    printf '%s\n' "${targets[@]}"
    exit 0
    ;;
  --runs)
    [[ ${2-} =~ ^[0-9]+$ ]] || { echo "ci/fuzz.sh: --runs needs a number" >&2; exit 2; }
    limit=(-runs="$2")
    shift 2
    ;;
  '' | *[!0-9]*) ;;
  *)
    limit=(-max_total_time="$1")
    shift
    ;;
esac
if (($#)); then
  for t in "$@"; do
    [[ " ${targets[*]} " == *" $t "* ]] || { echo "ci/fuzz.sh: no target $t (see --list)" >&2; exit 2; }
  done
  targets=("$@")
fi

if ! rustup toolchain list | grep -q '^nightly'; then
  echo "ci/fuzz.sh: no nightly toolchain; installing it with rustup"
  rustup toolchain install nightly --profile minimal || {
    echo "ci/fuzz.sh: FAILED: cargo-fuzz needs nightly and rustup could not install it" >&2
    exit 1
  }
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  echo "ci/fuzz.sh: no cargo-fuzz; installing it"
  cargo install cargo-fuzz --locked || {
    echo "ci/fuzz.sh: FAILED: could not install cargo-fuzz" >&2
    exit 1
  }
fi

# cargo-fuzz's defaults: optimized, with debug assertions and overflow checks, under ASan.
# FUZZ_SANITIZER=none drops ASan for long runs (the parsers and encoder are safe Rust, where
# ASan finds little; a run is several times faster without it).
target_dir="${CARGO_TARGET_DIR:-$root/target}/fuzz"
sanitizer=()
if [ -n "${FUZZ_SANITIZER-}" ]; then sanitizer=(--sanitizer "$FUZZ_SANITIZER"); fi
cargo +nightly fuzz build "${sanitizer[@]}" --target-dir "$target_dir"

failed=()
summary=()
for t in "${targets[@]}"; do
  echo
  echo "== fuzz $t (${limit[*]}) =="
  mkdir -p "fuzz/corpus/$t"
  log=$(mktemp)
  set +e
  # -timeout: an input that takes seconds is a hang, not slowness.
  cargo +nightly fuzz run "${sanitizer[@]}" --target-dir "$target_dir" "$t" "fuzz/corpus/$t" "fuzz/seeds/$t" -- \
    "${limit[@]}" -dict=fuzz/exposition.dict -timeout=10 -print_final_stats=1 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  set -e
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  rm -f "$log"
  if ((rc == 0)); then
    summary+=("$(printf '  %-6s %-18s %12s runs %6s s %8s exec/s' ok "$t" "${runs:-?}" "${secs:-?}" "${rate:-?}")")
  else
    summary+=("$(printf '  %-6s %-18s (exit %d; input in fuzz/artifacts/%s/)' FAILED "$t" "$rc" "$t")")
    failed+=("$t")
  fi
done

echo
echo "== fuzz summary =="
printf '%s\n' "${summary[@]}"
if ((${#failed[@]})); then
  echo "ci/fuzz.sh: FAILED: ${failed[*]} (reproduce: cargo +nightly fuzz run TARGET fuzz/artifacts/TARGET/<file>)"
  exit 1
fi
