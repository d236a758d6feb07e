#!/usr/bin/env bash
# promstack side by side with the six Rust peers (prometheus 0.14, prometheus-client 0.26,
# metrics 0.24 + metrics-exporter-prometheus 0.18, fastmetrics 0.7, measured 0.0.25, embeprom
# 0.3): Criterion hot-path and encode benchmarks, instructions per operation (callgrind) for
# every library and workload, heap allocations per operation, memory per labeled series at 100k
# series, time and extra heap of encoding 1M series, HTTP scrape throughput with wrk, and the
# flash/RAM/stack of a 5-metric firmware beside embeprom's (ci/footprint.sh, QEMU).
# Prints a table of medians and ratios; BENCHMARKS.md explains every row. The full run also
# writes bench/results/results.md (ours / best peer per workload) and bench/results/chart.svg
# (one panel per workload, a bar per library, ours highlighted).
#
# Profile: the full run and --callgrind build in `bench-lto` (fat LTO, codegen-units 1, as a
# release is built: without LTO a peer's cross-crate generics are not inlined). --quick, a CI
# smoke run, builds in `bench` (no LTO; building every peer with LTO takes ~10 minutes on 2
# cores); its figures are indicative only. BENCH_PROFILE overrides either.
#
# Usage: ci/bench.sh              the full comparison (about 40 minutes after the build)
#        ci/bench.sh --quick      every benchmark very briefly (CI: seconds after the build);
#                                 no callgrind, no 1M-series encode; chart drawn to a temp file
#        ci/bench.sh --callgrind  only the instruction counts per operation (valgrind), the
#                                 stable measure on a busy machine; the full run includes them
#
# Timings are reported, never asserted: the exit status is non-zero only when a benchmark fails
# to build or run. Builds go to $CARGO_TARGET_DIR (default target/), Criterion's data to
# $CARGO_TARGET_DIR/criterion.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}
tdir=${CARGO_TARGET_DIR:-$root/target}
export CRITERION_HOME=${CRITERION_HOME:-$tdir/criterion}

quick=0 only_callgrind=0
case ${1-} in
  --quick) quick=1 ;;
  --callgrind) only_callgrind=1 ;;
  "") ;;
  *)
    echo "usage: $0 [--quick|--callgrind]" >&2
    exit 2
    ;;
esac

profile=${BENCH_PROFILE:-bench-lto}
((quick)) && profile=${BENCH_PROFILE:-bench}

if ((quick)); then
  crit_args=(--warm-up-time 0.05 --measurement-time 0.1 --sample-size 10)
  scrape_secs=2
else
  crit_args=(--warm-up-time 1 --measurement-time 4)
  scrape_secs=10
fi

failed=()
step() {
  local name=$1
  shift
  echo
  echo "== bench: $name =="
  if ! "$@"; then
    echo "!! bench: $name failed" >&2
    failed+=("$name")
  fi
}

results=$(mktemp)
tmp=$(mktemp -d)
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
  rm -rf "$tmp" "$results"
}
trap cleanup EXIT

build() {
  echo "profile: $profile"
  ((only_callgrind)) || cargo bench --profile "$profile" -p promstack-bench --bench compare --no-run
  cargo build --profile "$profile" -p promstack-bench --examples
}

criterion() {
  rm -rf "$CRITERION_HOME"
  cargo bench --profile "$profile" -p promstack-bench --bench compare -- "${crit_args[@]}" 2>&1 |
    grep -Ev '^(Benchmarking|Found [0-9]+ outliers|  [0-9]+ \((low|high) (mild|severe)\))'
}

# Cargo puts the built-in `bench` profile's output in release/, a custom profile's in its name.
case $profile in
  bench | release) ex=$tdir/release/examples ;;
  dev | test) ex=$tdir/debug/examples ;;
  *) ex=$tdir/$profile/examples ;;
esac

peers=(prometheus prometheus_client metrics fastmetrics measured embeprom)

allocs() {
  "$ex/allocs" | tee -a "$results"
}

memory() {
  local lib line
  for lib in none promstack_fixed promstack_alloc "${peers[@]}"; do
    line=$("$ex/mem" "$lib") || return 1
    echo "$line"
    # lib=X series=N peak_rss_bytes=B -> mem X B N
    awk '{ split($1, a, "="); split($2, b, "="); split($3, c, "=");
           print "mem", a[2], c[2], b[2] }' <<<"$line" >>"$results"
  done
}

# wrk's latency ("3.21ms", "850.00us", "1.02s") in milliseconds.
to_ms() {
  awk -v v="$1" 'BEGIN {
    if (v ~ /us$/) { sub(/us$/, "", v); print v / 1000 }
    else if (v ~ /ms$/) { sub(/ms$/, "", v); print v + 0 }
    else if (v ~ /s$/) { sub(/s$/, "", v); print v * 1000 }
    else print v }'
}

scrape_one() {
  local lib=$1 port= rps p99
  # Bounded: the server exits by itself even if this script dies.
  "$ex/scrape" "$lib" $((scrape_secs + 30)) >"$tmp/$lib.port" &
  server_pid=$!
  for _ in $(seq 600); do
    port=$(sed -n 's/^port=//p' "$tmp/$lib.port")
    [ -n "$port" ] && break
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  if [ -z "$port" ]; then
    echo "$lib server did not start" >&2
    return 1
  fi
  wrk -t1 -c4 -d"${scrape_secs}s" --timeout 10s --latency "http://127.0.0.1:$port/metrics" | tee "$tmp/$lib.wrk"
  kill "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=
  rps=$(awk '/^Requests\/sec:/ { print $2 }' "$tmp/$lib.wrk")
  p99=$(awk '$1 == "99%" { print $2 }' "$tmp/$lib.wrk")
  [ -n "$rps" ] && [ -n "$p99" ] || return 1
  if grep -q "Non-2xx" "$tmp/$lib.wrk"; then
    echo "$lib answered with errors" >&2
    return 1
  fi
  echo "scrape $lib $rps $(to_ms "$p99")" >>"$results"
}

# Time and extra heap of one encode of 1M series (10 families x 100,000 children).
encode_1m() {
  local lib line
  for lib in promstack promstack_alloc "${peers[@]}"; do
    line=$("$ex/encode1m" "$lib") || return 1
    echo "$line" | tee -a "$results"
  done
}

# Instructions per operation: each (library, workload) runs twice under callgrind with
# different iteration counts; the difference divided by the extra iterations cancels the setup.
callgrind() {
  if ! command -v valgrind >/dev/null; then
    echo "valgrind is not installed (apt-get install valgrind): instruction counts skipped"
    return 0
  fi
  local w lib n1 n2 c1 c2 rc
  for w in counter_inc gauge_set histogram_observe lookup_inc cached_inc encode_10k encode_histograms encode_1m; do
    case $w in
      encode_1m) n1=1 n2=2 ;;
      encode_*) n1=2 n2=4 ;;
      *) n1=100000 n2=300000 ;;
    esac
    for lib in baseline promstack promstack_alloc promstack_native promstack_protobuf "${peers[@]}" promstack_metrics; do
      rc=0
      # The encode_1m pairs are known to exist (and a trial run costs seconds).
      [ "$w" = encode_1m ] || "$ex/profile" "$lib" "$w" 1 >/dev/null 2>&1 || rc=$?
      [ "$w" = encode_1m ] && [ "$lib" = promstack_metrics ] && continue
      ((rc == 3)) && continue # no such pair
      ((rc == 0)) || return 1
      c1=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$ex/profile" "$lib" "$w" $n1 2>&1 |
        sed -n 's/.*Collected : //p')
      c2=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$ex/profile" "$lib" "$w" $n2 2>&1 |
        sed -n 's/.*Collected : //p')
      [ -n "$c1" ] && [ -n "$c2" ] || return 1
      echo "instr $w $lib $(((c2 - c1) / (n2 - n1)))" | tee -a "$results"
    done
  done
}

# RAM per metric (size_of on this host) and, when the firmware demo is built (CI's firmware
# step builds it; the full run builds it here), its flash and RAM sections.
footprint() {
  "$ex/sizes" || return 1
  local elf=$tdir/thumbv7m-none-eabi/release/promstack-firmware
  if ((!quick)) && [ -x ci/firmware.sh ]; then
    ci/firmware.sh build >/dev/null 2>&1 || echo "firmware build failed: sizes skipped"
  fi
  if [ -f "$elf" ] && command -v size >/dev/null; then
    size -B "$elf" | awk 'NR == 2 { printf "firmware (examples/firmware, thumbv7m, opt-level s, lto): .text=%d .data=%d .bss=%d\n", $1, $2, $3 }'
  else
    echo "firmware ELF not built: sizes skipped"
  fi
}

# The 5-metric firmware with promstack-core and with embeprom, floats and integer-only: flash,
# static RAM and encode stack (ci/footprint.sh; its table is repeated after the final table).
firmware_vs_embeprom() {
  if ! command -v qemu-system-arm >/dev/null; then
    echo "qemu-system-arm is not installed (apt-get install qemu-system-arm): firmware footprint skipped"
    return 0
  fi
  ci/footprint.sh | tee "$tmp/footprint"
}

scrape() {
  if ! command -v wrk >/dev/null; then
    echo "wrk is not installed (apt-get install wrk): scrape throughput skipped"
    return 0
  fi
  scrape_one promstack && scrape_one promstack_alloc && scrape_one metrics
}

t0=$SECONDS
step build build
if ((${#failed[@]} == 0)); then
  if ((only_callgrind)); then
    step "instructions per operation" callgrind
  else
    step criterion criterion
    step allocations allocs
    step memory memory
    step footprint footprint
    step "firmware footprint vs embeprom" firmware_vs_embeprom
    step "scrape throughput" scrape
    ((quick)) || step "encode 1M series" encode_1m
    ((quick)) || step "instructions per operation" callgrind
  fi
fi

echo
mode=full
((quick)) && mode="--quick: very short runs, indicative only"
((only_callgrind)) && mode="--callgrind"
echo "== bench: table ($mode) =="
machine="$(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $(rustc --version)"
echo "machine: $machine"
echo "profile: $profile"
crit_dir=$CRITERION_HOME
((only_callgrind)) && crit_dir=$tmp/no-criterion
# The committed results come from a full run only; --quick checks the chart is drawn.
out_dir=bench/results
((quick || only_callgrind)) && out_dir=$tmp/results
mkdir -p "$out_dir"
note="profile $profile ($mode); $machine"
python3 bench/report.py "$crit_dir" "$results" --markdown "$out_dir/results.md" --svg "$out_dir/chart.svg" \
  --note "$note" || failed+=(report)
if [ -f "$out_dir/chart.svg" ]; then
  python3 -c 'import sys, xml.dom.minidom; xml.dom.minidom.parse(sys.argv[1])' "$out_dir/chart.svg" ||
    failed+=("chart is not valid SVG")
  ((quick || only_callgrind)) || cp "$results" "$out_dir/raw.txt"
fi
if [ -s "$tmp/footprint" ]; then
  echo
  cat "$tmp/footprint"
fi
echo
if ((${#failed[@]})); then
  echo "ci/bench.sh: FAILED: ${failed[*]} ($((SECONDS - t0))s)"
  exit 1
fi
echo "ci/bench.sh: all benchmarks ran ($((SECONDS - t0))s)"
