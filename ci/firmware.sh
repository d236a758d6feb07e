#!/usr/bin/env bash
# Builds the firmware demo (examples/firmware), runs it under QEMU and checks its exposition;
# the same for the interrupt test (examples/firmware-isr) on four QEMU machines.
#
# Usage: ci/firmware.sh build    release build of the ELF
#        ci/firmware.sh clippy   clippy on both firmware crates, warnings are errors
#        ci/firmware.sh run      build, print the ELF's .text/.data/.bss, run it under QEMU
#                                (lm3s6965evb, Cortex-M3) with a timeout, check the values it
#                                printed, lint the output with promtool, parse it with the
#                                Python reference client when $PROMSTACK_PYTHON is set
#        ci/firmware.sh isr [TARGET...]
#                                the interrupt test: for each target (default: all four) a
#                                release build, its sizes, a run under QEMU with a timeout, and
#                                the exact totals checked; every target runs even if one fails
#        ci/firmware.sh async    the async example (examples/firmware-async): release build for
#                                thumbv7em, its sizes, a run under QEMU (mps2-an386) with a
#                                timeout, its values checked, and its own check that the bytes
#                                sent chunk by chunk are the push encoder's
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
fw=$root/examples/firmware
target=thumbv7m-none-eabi
# The same target dir as the workspace, so one clean removes everything.
tdir=${CARGO_TARGET_DIR:-$root/target}
elf=$tdir/$target/release/promstack-firmware
timeout_s=${FIRMWARE_TIMEOUT:-60}

# Lines the firmware must print, exactly (children of a labeled family in any order). The loop
# in examples/firmware/src/main.rs runs 1000 iterations; these are the totals it must reach.
expected=(
  'fw_loop_iterations_total 1000.0'
  'fw_bytes_sent_total 12468.0'
  'fw_temperature_celsius 24.5'
  'fw_queue_depth 250.0'
  'fw_uptime_ticks 1000.0'
  'fw_packet_size_bytes_bucket{le="8.0"} 252.0'
  'fw_packet_size_bytes_bucket{le="12.0"} 504.0'
  'fw_packet_size_bytes_bucket{le="16.0"} 752.0'
  'fw_packet_size_bytes_bucket{le="20.0"} 1000.0'
  'fw_packet_size_bytes_bucket{le="+Inf"} 1000.0'
  'fw_packet_size_bytes_count 1000.0'
  'fw_packet_size_bytes_sum 12468.0'
  'fw_packets_total{kind="data",result="ok"} 300.0'
  'fw_packets_total{kind="data",result="retry"} 34.0'
  'fw_packets_total{kind="ack",result="ok"} 300.0'
  'fw_packets_total{kind="ack",result="retry"} 33.0'
  'fw_packets_total{kind="beacon",result="ok"} 300.0'
  'fw_packets_total{kind="beacon",result="retry"} 33.0'
  'fw_radio_state{fw_radio_state="idle"} 1.0'
  'fw_radio_state{fw_radio_state="tx"} 0.0'
  'fw_radio_state{fw_radio_state="rx"} 0.0'
  'fw_build_info{board="lm3s6965evb",version="0.1.0"} 1.0'
  'promstack_label_rejections_total 1.0'
)

# cargo reads examples/firmware/.cargo/config.toml (target, linker script, runner) only when
# run from inside that directory.
fw_cargo() { (cd "$fw" && cargo "$1" --target-dir "$tdir" "${@:2}"); }

build() { fw_cargo build --release; }

clippy() {
  fw_cargo clippy --release -- -D warnings
  # One Cortex-M and the RISC-V target: between them every line of the crate is compiled.
  isr_cargo clippy --release --target thumbv7m-none-eabi -- -D warnings
  isr_cargo clippy --release --target riscv32imc-unknown-none-elf -- -D warnings
  async_cargo clippy --release -- -D warnings
}

# Berkeley sizes, as `size` (binutils) prints them: text = vector table + code + rodata,
# data = initialised RAM (its initial values also sit in flash), bss = zeroed RAM. $2: bytes of
# reserved stack/heap sections to leave out of bss (riscv-rt gives the stack a section).
sizes() {
  size -B "$1" | awk -v elf="${1#"$root"/}" -v reserved="${2:-0}" 'NR == 2 {
    $3 -= reserved
    printf "firmware size (%s): .text=%d .data=%d .bss=%d bytes (flash %d, static ram %d)\n",
      elf, $1, $2, $3, $1 + $2, $2 + $3 }'
}

run() {
  build
  sizes "$elf"
  out=$(mktemp -d)
  trap 'rm -rf "$out"' EXIT
  local rc=0
  timeout "$timeout_s" qemu-system-arm -cpu cortex-m3 -machine lm3s6965evb -nographic \
    -semihosting-config enable=on,target=native -kernel "$elf" >"$out/raw" 2>"$out/err" || rc=$?
  if ((rc != 0)); then
    echo "qemu exited with $rc (124 = timed out after ${timeout_s}s); output:" >&2
    cat "$out/raw" "$out/err" >&2
    return 1
  fi
  # QEMU prints a harmless "Timer with period zero" line first; the exposition starts at the
  # first # HELP.
  sed -n '/^# HELP/,$p' "$out/raw" >"$out/metrics"
  if [ ! -s "$out/metrics" ]; then
    echo "no exposition in the firmware's output:" >&2
    cat "$out/raw" >&2
    return 1
  fi
  cat "$out/metrics"
  local missing=0 line
  for line in "${expected[@]}"; do
    grep -qxF -- "$line" "$out/metrics" || {
      echo "missing line: $line" >&2
      missing=1
    }
  done
  ((missing == 0)) || return 1
  echo "firmware: all ${#expected[@]} expected values present"
  promtool check metrics <"$out/metrics"
  echo "firmware: promtool check metrics is clean"
  if [ -x "${PROMSTACK_PYTHON-}" ]; then
    "$PROMSTACK_PYTHON" - "$out/metrics" <<'EOF'
import sys
from prometheus_client.parser import text_string_to_metric_families
families = list(text_string_to_metric_families(open(sys.argv[1]).read()))
print(f"firmware: prometheus_client 0.8.0 parsed {len(families)} families, "
      f"{sum(len(f.samples) for f in families)} samples")
EOF
  fi
}

# --- the interrupt test (examples/firmware-isr) ----------------------------------------------
isr_fw=$root/examples/firmware-isr
isr_cargo() { (cd "$isr_fw" && cargo "$1" --target-dir "$tdir" "${@:2}"); }

# target|QEMU command line without the ELF. `-icount shift=0` ties virtual time to instructions
# (1 ns each), so the ticks come every ~2,000 instructions whatever the host's load, and a run
# is repeatable (same op counts every time).
isr_machines=(
  "thumbv7m-none-eabi|qemu-system-arm -machine mps2-an385 -icount shift=0 -semihosting-config enable=on,target=native"
  "thumbv7em-none-eabihf|qemu-system-arm -machine mps2-an386 -icount shift=0 -semihosting-config enable=on,target=native"
  "thumbv6m-none-eabi|qemu-system-arm -machine microbit -icount shift=0 -semihosting-config enable=on,target=native"
  "riscv32imc-unknown-none-elf|qemu-system-riscv32 -machine virt -bios none -icount shift=0"
)

# Checks the exposition in $1 against the totals implied by the header line in $2: both
# contexts ran the operation set of examples/firmware-isr/src/main.rs (`op`), the main loop
# main_ops times, the handler isr_ops times. Every series must be there with exactly its value,
# and no other.
isr_check() {
  local header
  header=$(grep -m1 '^isr-test: main_ops=' "$2") || {
    echo "no isr-test header line in the output" >&2
    return 1
  }
  awk -v header="$header" '
    function field(name,   re) {
      re = name "=[0-9]+"
      if (!match(header, re)) { print "header lacks " name ": " header; bad = 2; exit 2 }
      return substr(header, RSTART + length(name) + 1, RLENGTH - length(name) - 1) + 0
    }
    # One context: k = 0..n-1 observes 0.5 + k % 4 and increments "shared" and one claimed
    # key: c<j> on even k, <ctx><j> on odd k, j = (k / stride) % keys.
    function context(n, ctx,   k, j) {
      for (k = 0; k < n; k++) {
        bucket[k % 4]++
        sum += 0.5 + k % 4
        j = int(k / stride) % keys
        keyed[(k % 2 == 0 ? "c" : ctx) j]++
      }
    }
    BEGIN {
      m = field("main_ops"); i = field("isr_ops"); stride = field("stride"); keys = field("keys")
      context(m, "m"); context(i, "i")
      want["isr_hits_total"] = m + i
      want["isr_level"] = m - 2 * i
      want["isr_size_bucket{le=\"1.0\"}"] = bucket[0]
      want["isr_size_bucket{le=\"2.0\"}"] = bucket[0] + bucket[1]
      want["isr_size_bucket{le=\"3.0\"}"] = bucket[0] + bucket[1] + bucket[2]
      want["isr_size_bucket{le=\"+Inf\"}"] = m + i
      want["isr_size_count"] = m + i
      want["isr_size_sum"] = sum
      want["isr_keyed_total{key=\"shared\"}"] = m + i
      for (key in keyed) want["isr_keyed_total{key=\"" key "\"}"] = keyed[key]
      want["promstack_label_rejections_total"] = 0
    }
    /^#/ || NF == 0 { next }
    {
      seen[$1]++
      if (!($1 in want)) { print "unexpected series: " $0; bad = 1 }
      else if (seen[$1] > 1) { print "series twice: " $0; bad = 1 }
      else if ($2 + 0 != want[$1]) { printf "%s = %s, want %.1f\n", $1, $2, want[$1]; bad = 1 }
      else ok++
    }
    END {
      if (bad == 2) exit 2
      for (s in want) if (!(s in seen)) { print "missing series: " s; bad = 1 }
      if (!bad) printf "all %d series exact (main_ops=%d, isr_ops=%d)\n", ok, m, i
      exit bad
    }' "$1" >&2
}

# Runs one target; prints one status line on stdout, details on stderr.
isr_one() {
  local target=$1 qemu=$2 out=$3 elf rc=0 t0 took
  elf=$tdir/$target/release/promstack-firmware-isr
  if ! isr_cargo build --release --target "$target"; then
    echo "$target: BUILD FAILED"
    return 1
  fi
  sizes "$elf" "$(size -A "$elf" | awk '$1 == ".stack" || $1 == ".heap" { n += $2 } END { print n + 0 }')" >&2
  t0=$(date +%s%N)
  # shellcheck disable=SC2086 # the QEMU command line is meant to split into words
  timeout "$timeout_s" $qemu -nographic -kernel "$elf" </dev/null >"$out/$target.raw" 2>"$out/$target.err" || rc=$?
  took=$(awk -v ns=$(($(date +%s%N) - t0)) 'BEGIN { printf "%.1fs", ns / 1e9 }')
  if ((rc == 124)); then
    echo "$target: HANG (no exit within ${timeout_s}s; qemu killed by timeout)"
    cat "$out/$target.raw" "$out/$target.err" >&2
    return 1
  elif ((rc != 0)); then
    echo "$target: FAILED (qemu exit $rc after $took)"
    cat "$out/$target.raw" "$out/$target.err" >&2
    return 1
  fi
  sed -n '/^# HELP/,$p' "$out/$target.raw" >"$out/$target.metrics"
  if ! isr_check "$out/$target.metrics" "$out/$target.raw"; then
    echo "$target: WRONG TOTALS (after $took)"
    cat "$out/$target.raw" >&2
    return 1
  fi
  if ! promtool check metrics <"$out/$target.metrics" >&2; then
    echo "$target: promtool rejected the exposition"
    return 1
  fi
  echo "$target: ok in $took ($(grep -m1 '^isr-test:' "$out/$target.raw" | cut -d' ' -f2-4))"
}

isr() {
  local pair target qemu status=0 want=("$@") report=()
  out=$(mktemp -d)
  trap 'rm -rf "$out"' EXIT
  for pair in "${isr_machines[@]}"; do
    target=${pair%%|*} qemu=${pair#*|}
    if ((${#want[@]})) && [[ " ${want[*]} " != *" $target "* ]]; then continue; fi
    echo "== isr: $target ($qemu)" >&2
    report+=("$(isr_one "$target" "$qemu" "$out")") || status=1
    echo "${report[-1]}" >&2
  done
  if ((${#report[@]} == 0)); then
    echo "no such target: ${want[*]} (have: ${isr_machines[*]%%|*})" >&2
    return 2
  fi
  echo "== firmware isr summary"
  printf '  %s\n' "${report[@]}"
  return $status
}

# --- the async example (examples/firmware-async) --------------------------------------------
async_fw=$root/examples/firmware-async
async_cargo() { (cd "$async_fw" && cargo "$1" --target-dir "$tdir" "${@:2}"); }

# Lines it must print: 100 requests, the last temperature, the latency buckets, the statuses.
async_expected=(
  'fa_requests_total 100.0'
  'fa_temperature_celsius 20.75'
  'fa_latency_seconds_bucket{le="0.001"} 10.0'
  'fa_latency_seconds_bucket{le="0.01"} 10.0'
  'fa_latency_seconds_bucket{le="0.1"} 60.0'
  'fa_latency_seconds_bucket{le="1.0"} 100.0'
  'fa_latency_seconds_bucket{le="+Inf"} 100.0'
  'fa_latency_seconds_count 100.0'
  'fa_responses_total{status="200"} 90.0'
  'fa_responses_total{status="500"} 10.0'
)

async_run() {
  local elf=$tdir/thumbv7em-none-eabihf/release/promstack-firmware-async rc=0 line missing=0
  async_cargo build --release
  sizes "$elf"
  out=$(mktemp -d)
  trap 'rm -rf "$out"' EXIT
  timeout "$timeout_s" qemu-system-arm -machine mps2-an386 -nographic \
    -semihosting-config enable=on,target=native -kernel "$elf" </dev/null >"$out/raw" 2>"$out/err" || rc=$?
  if ((rc != 0)); then
    echo "qemu exited with $rc (124 = timed out after ${timeout_s}s); output:" >&2
    cat "$out/raw" "$out/err" >&2
    return 1
  fi
  sed -n '/^# HELP/,$p' "$out/raw" | grep -v '^async-firmware:' >"$out/metrics" || true
  for line in "${async_expected[@]}"; do
    grep -qxF -- "$line" "$out/metrics" || {
      echo "missing line: $line" >&2
      missing=1
    }
  done
  grep -x 'async-firmware: .* identical to the push encoder' "$out/raw" || {
    echo "no summary line saying the bytes are the push encoder's:" >&2
    cat "$out/raw" >&2
    return 1
  }
  ((missing == 0)) || {
    cat "$out/raw" >&2
    return 1
  }
  promtool check metrics <"$out/metrics"
  echo "firmware async: all ${#async_expected[@]} expected values present, promtool check metrics is clean"
}

case ${1-run} in
  build) build ;;
  clippy) clippy ;;
  run) run ;;
  isr) isr "${@:2}" ;;
  async) async_run ;;
  *)
    echo "usage: $0 build|clippy|run|isr [TARGET...]|async" >&2
    exit 2
    ;;
esac
