#!/usr/bin/env bash
# Smoke test of the README's main demo: runs `three_step_demo` for a few seconds on a free
# loopback port, scrapes it while it runs, checks the summary is there and growing, and lints
# the scrape with promtool.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
cargo build -q --example three_step_demo -p promstack
out=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$out"' EXIT
PROMSTACK_DEMO_ADDR=127.0.0.1:0 cargo run -q --example three_step_demo -p promstack -- 4 >"$out/stdout" 2>&1 &
pid=$!
url=
for _ in $(seq 100); do
  url=$(grep -o 'http://[^ ]*/metrics' "$out/stdout" || true)
  [ -n "$url" ] && break
  sleep 0.1
done
[ -n "$url" ] || { echo "the demo printed no URL:"; cat "$out/stdout"; exit 1; }
sleep 1
curl -sf "$url" >"$out/first"
sleep 1
curl -sf "$url" >"$out/second"
count() { awk '$1 == "request_processing_seconds_count" { print $2 }' "$1"; }
first=$(count "$out/first") second=$(count "$out/second")
echo "demo at $url: request_processing_seconds_count $first -> $second"
awk -v a="$first" -v b="$second" 'BEGIN { exit !(a > 0 && b > a) }' || {
  echo "the summary count did not grow"; exit 1;
}
grep -q '^rust_info{' "$out/second" || { echo "no platform collector output"; exit 1; }
grep -q '^process_cpu_seconds_total ' "$out/second" || { echo "no process collector output"; exit 1; }
promtool check metrics <"$out/second"
wait "$pid"
grep -q '^processed [0-9]* requests, stopping$' "$out/stdout" || { cat "$out/stdout"; exit 1; }
echo "three_step_demo ok"
