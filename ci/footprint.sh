#!/usr/bin/env bash
# Firmware footprint, side by side: the same 5-metric firmware (2 counters, a gauge, a histogram
# with 8 buckets, a counter family with 2 labels; examples/footprint) with promstack-core and
# with embeprom 0.3, each with float values and integer-only. Builds the 4 ELFs (release,
# thumbv7m-none-eabi, opt-level "z", LTO), runs each under QEMU (mps2-an385, Cortex-M3) with a
# timeout, checks its exposition (every series with its exact value, nothing else, promtool
# check metrics) and prints a table of .text/.data/.bss, flash, static RAM and the stack the
# encode call used (the firmware paints its stack and reports the high-water mark).
#
# Usage: ci/footprint.sh
#
# The table goes to stdout, build and run details to stderr. Sizes are benchmarks: none is
# asserted; the exit status is non-zero only when a build, a run or an exposition check fails.
# ELFs are kept as $CARGO_TARGET_DIR/footprint/<crate>-<variant> (for cargo bloat, nm).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
tdir=${CARGO_TARGET_DIR:-$root/target}
target=thumbv7m-none-eabi
timeout_s=${FOOTPRINT_TIMEOUT:-60}
keep=$tdir/footprint
mkdir -p "$keep"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# crate|variant|cargo feature flags
builds=(
  "promstack|floats|"
  "promstack|integer|--no-default-features"
  "embeprom|floats|"
  "embeprom|integer|--no-default-features"
)

# Series the firmware must print, with their values (checked as numbers, so "1000" and "1000.0"
# both match; le="6.0" is read as le="6"). The loop in examples/footprint/*/src/main.rs runs 1000
# iterations with packets of 5 + i % 16 bytes.
expected=(
  'fp_loop_iterations_total 1000'
  'fp_bytes_sent_total 12468'
  'fp_packet_size_bytes_bucket{le="6"} 126'
  'fp_packet_size_bytes_bucket{le="8"} 252'
  'fp_packet_size_bytes_bucket{le="10"} 378'
  'fp_packet_size_bytes_bucket{le="12"} 504'
  'fp_packet_size_bytes_bucket{le="14"} 628'
  'fp_packet_size_bytes_bucket{le="16"} 752'
  'fp_packet_size_bytes_bucket{le="18"} 876'
  'fp_packet_size_bytes_bucket{le="20"} 1000'
  'fp_packet_size_bytes_bucket{le="+Inf"} 1000'
  'fp_packet_size_bytes_count 1000'
  'fp_packet_size_bytes_sum 12468'
  'fp_packets_total{kind="data",result="ok"} 300'
  'fp_packets_total{kind="data",result="retry"} 34'
  'fp_packets_total{kind="ack",result="ok"} 300'
  'fp_packets_total{kind="ack",result="retry"} 33'
  'fp_packets_total{kind="beacon",result="ok"} 300'
  'fp_packets_total{kind="beacon",result="retry"} 33'
)

# $1: the exposition, $2: the variant (the gauge ends on 24.5 with floats, 24 without).
check() {
  local temperature=24
  [ "$2" = floats ] && temperature=24.5
  sed -E 's/le="([0-9]+)\.0"/le="\1"/' "$1" |
    awk -v want_list="$(printf '%s\n' "${expected[@]}" "fp_temperature_celsius $temperature")" '
      BEGIN {
        n = split(want_list, lines, "\n")
        for (k = 1; k <= n; k++) if (split(lines[k], f, " ") == 2) want[f[1]] = f[2]
      }
      /^#/ || NF == 0 { next }
      {
        seen[$1]++
        if (!($1 in want)) { print "unexpected series: " $0; bad = 1 }
        else if (seen[$1] > 1) { print "series twice: " $0; bad = 1 }
        else if ($2 + 0 != want[$1] + 0) { print $1 " = " $2 ", want " want[$1]; bad = 1 }
      }
      END {
        for (s in want) if (!(s in seen)) { print "missing series: " s; bad = 1 }
        exit bad
      }' >&2
}

# Builds and runs one firmware; appends "crate variant text data bss stack" to $out/rows.
one() {
  local crate=$1 variant=$2 flags=$3 elf rc=0 stack
  elf=$keep/$crate-$variant
  echo "== footprint: $crate, $variant" >&2
  # cargo reads the crate's .cargo/config.toml (target, linker script) only from inside it.
  # shellcheck disable=SC2086 # $flags is empty or one flag
  (cd "examples/footprint/$crate" && cargo build --release --target-dir "$tdir" $flags) >&2 || {
    echo "$crate $variant: BUILD FAILED" >&2
    return 1
  }
  cp "$tdir/$target/release/footprint-$crate" "$elf"
  timeout "$timeout_s" qemu-system-arm -machine mps2-an385 -cpu cortex-m3 -nographic \
    -semihosting-config enable=on,target=native -kernel "$elf" </dev/null \
    >"$out/$crate-$variant.raw" 2>"$out/$crate-$variant.err" || rc=$?
  if ((rc != 0)); then
    echo "$crate $variant: qemu exited with $rc (124 = timed out after ${timeout_s}s); output:" >&2
    cat "$out/$crate-$variant.raw" "$out/$crate-$variant.err" >&2
    return 1
  fi
  sed -n '/^# HELP/,$p' "$out/$crate-$variant.raw" | grep -v '^stack-used-by-encode:' \
    >"$out/$crate-$variant.metrics" || true
  stack=$(sed -n 's/^stack-used-by-encode: \([0-9][0-9]*\)$/\1/p' "$out/$crate-$variant.raw")
  if [ -z "$stack" ] || ! check "$out/$crate-$variant.metrics" "$variant"; then
    echo "$crate $variant: wrong or incomplete output:" >&2
    cat "$out/$crate-$variant.raw" >&2
    return 1
  fi
  if command -v promtool >/dev/null; then
    promtool check metrics <"$out/$crate-$variant.metrics" >&2 || {
      echo "$crate $variant: promtool rejected the exposition" >&2
      return 1
    }
  else
    echo "promtool is not installed: lint skipped" >&2
  fi
  echo "$crate $variant: exposition ok, encode used $stack bytes of stack" >&2
  # The firmware writes text only: none of the OpenMetrics writer nor the name[] filter may be
  # linked (the encoder's format is a type parameter; this is what it is for).
  if [ "$crate" = promstack ] && nm -C "$elf" | grep -E 'put_seconds|put_paired|put_om_extras|NameFilter' >&2; then
    echo "$crate $variant: links OpenMetrics or filter code it never calls (symbols above)" >&2
    return 1
  fi
  size -B "$elf" | awk -v c="$crate" -v v="$variant" -v s="$stack" \
    'NR == 2 { print c, v, $1, $2, $3, s }' >>"$out/rows"
}

status=0
for b in "${builds[@]}"; do
  IFS='|' read -r crate variant flags <<<"$b"
  one "$crate" "$variant" "$flags" || status=1
done

echo "== footprint table: 5-metric firmware, $target, opt-level z, lto, codegen-units 1 (bytes) =="
echo "flash = .text + .data, static RAM = .data + .bss (includes the 2,048-byte output buffer)"
awk 'BEGIN { printf "%-10s %-8s %7s %6s %6s %7s %10s %12s\n",
               "crate", "variant", ".text", ".data", ".bss", "flash", "static RAM", "encode stack" }
     { printf "%-10s %-8s %7d %6d %6d %7d %10d %12d\n", $1, $2, $3, $4, $5, $3 + $4, $4 + $5, $6 }' \
  "$out/rows" 2>/dev/null || true
exit $status
