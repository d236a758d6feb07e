#!/usr/bin/env bash
# Builds the firmware demo (examples/firmware), runs it under QEMU and checks its exposition.
#
# Usage: ci/firmware.sh build    release build of the ELF
#        ci/firmware.sh clippy   clippy on the firmware, warnings are errors
#        ci/firmware.sh run      build, print the ELF's .text/.data/.bss, run it under QEMU
#                                (lm3s6965evb, Cortex-M3) with a timeout, check the values it
#                                printed, lint the output with promtool, parse it with the
#                                Python reference client when $PROMSTACK_PYTHON is set
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

clippy() { fw_cargo clippy --release -- -D warnings; }

# Berkeley sizes, as `size` (binutils) prints them: text = vector table + code + rodata,
# data = initialised RAM (its initial values also sit in flash), bss = zeroed RAM.
sizes() {
  size -B "$1" | awk -v elf="${1#"$root"/}" 'NR == 2 {
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

case ${1-run} in
  build) build ;;
  clippy) clippy ;;
  run) run ;;
  *)
    echo "usage: $0 build|clippy|run" >&2
    exit 2
    ;;
esac
