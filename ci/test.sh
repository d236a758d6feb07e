#!/usr/bin/env bash
# promstack's whole CI: the one command a person and .ci/run both use.
#
# Usage: ci/test.sh              run every step
#        ci/test.sh --list       print the step names
#        ci/test.sh WORD...      run only the steps whose name contains one of the WORDs
#                                (e.g. `ci/test.sh firmware cross`)
#
# Every step runs from the repo root in its own `set -euo pipefail` subshell; a failing step is
# reported and the next one still runs, so one run shows every problem. The exit status is 0
# only when every step passed. All builds share the default target/ (or $CARGO_TARGET_DIR).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
export PROMSTACK_PYTHON=$root/target/peers-venv/bin/python
export PROMSTACK_PYTHON_LATEST=$root/target/peers-venv-latest/bin/python
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}
# Disk: a CI run builds ~40 feature/target combinations into one target dir. Incremental caches
# and full debug info would take ~8 GB of it for nothing a one-shot run reuses; line tables keep
# panics' backtraces readable. Both can be overridden from the environment.
export CARGO_INCREMENTAL=${CARGO_INCREMENTAL:-0}
export CARGO_PROFILE_DEV_DEBUG=${CARGO_PROFILE_DEV_DEBUG:-line-tables-only}

# no_std crates built for targets without std: "package target [cargo flags]". promstack-alloc
# on thumbv6m needs a CAS implementation, which the binary picks (here portable-atomic's
# critical-section one, as a firmware would).
cross_builds=(
  "promstack-core thumbv6m-none-eabi"
  "promstack-core thumbv7em-none-eabihf"
  "promstack-core riscv32imc-unknown-none-elf"
  "promstack-alloc thumbv6m-none-eabi --features portable-atomic/critical-section"
)

# The steps, in order: "name|shell command". Adding a step is adding a line.
steps=(
  "install peers|ci/install-peers.sh target/peers-venv target/peers-venv-latest"
  "fmt|cargo fmt --all -- --check && for d in examples/firmware examples/firmware-isr examples/firmware-async examples/downstream/own-critical-section examples/downstream/single-core examples/footprint/promstack examples/footprint/embeprom fuzz; do (cd \"\$d\" && cargo fmt -- --check); done"
  "clippy|cargo clippy --workspace --all-targets -- -D warnings"
  "test|cargo test --workspace"
  "test core with critical sections|cargo test -p promstack-core"
  "test core pull and async encoders|cargo test -p promstack-core --features async --test pull"
  "test core small (the compact encoder writes the same bytes)|cargo test -p promstack-core --features small && cargo test -p promstack-core --features async,small --test pull && cargo clippy -p promstack-core --all-targets --features small -- -D warnings"
  "doc|RUSTDOCFLAGS=-Dwarnings cargo doc --workspace --no-deps && RUSTDOCFLAGS=-Dwarnings cargo doc -p promstack --no-deps --all-features"
  "features alone|ci/features.sh"
  "msrv|ci/msrv.sh"
)
for pair in "${cross_builds[@]}"; do
  read -r pkg target flags <<<"$pair"
  steps+=("cross $pkg $target|cargo build -p $pkg --target $target ${flags-}")
done
steps+=("cross promstack-core small|cargo build -p promstack-core --features small --target thumbv6m-none-eabi")
steps+=("cross promstack-core defmt|cargo build -p promstack-core --features defmt --target thumbv7em-none-eabihf")
# The derive runs on the host (a proc macro); the typed label sets it implements build for the target.
steps+=("cross promstack-core derive|cargo build -p promstack-core --features derive --target thumbv7em-none-eabihf")
steps+=("cross promstack-core integer-only|for t in thumbv6m-none-eabi thumbv7em-none-eabihf riscv32imc-unknown-none-elf; do cargo build -p promstack-core --no-default-features --target \$t && cargo clippy -p promstack-core --no-default-features --target \$t -- -D warnings; done")
steps+=("cross promstack-core text only, async|cargo build -p promstack-core --no-default-features --features async --target thumbv7em-none-eabihf")
steps+=(
  "firmware clippy|ci/firmware.sh clippy"
  "firmware under qemu|ci/firmware.sh run"
  "downstream crates|ci/downstream.sh"
  "readme firmware|ci/readme-firmware.sh"
  "main demo|ci/examples.sh"
  "firmware isr|ci/firmware.sh isr"
  "firmware async|ci/firmware.sh async"
  "bench --quick|if [ -e ci/bench.sh ]; then bash ci/bench.sh --quick; else echo 'no ci/bench.sh: skipped'; fi"
  "fuzz|ci/fuzz.sh 60"
)

if [ "${1-}" = --list ]; then
  for s in "${steps[@]}"; do echo "${s%%|*}"; done
  exit 0
fi

selected() {
  (($# == 0)) && return 0
  local word
  for word in "$@"; do
    [[ $name == *"$word"* ]] && return 0
  done
  return 1
}

clock() {
  local s=$1
  if ((s >= 60)); then printf '%dm%02ds' $((s / 60)) $((s % 60)); else printf '%ds' "$s"; fi
}

# Free space of the target dir's filesystem, in MiB (for the per-step report).
free_mib() {
  local dir=${CARGO_TARGET_DIR:-$root/target}
  mkdir -p "$dir"
  df -Pm "$dir" | awk 'NR == 2 { print $4 }'
}
echo "ci/test.sh: $(free_mib) MiB free for ${CARGO_TARGET_DIR:-$root/target}"

start=$SECONDS
ran=0
failed=()
report=()
for s in "${steps[@]}"; do
  name=${s%%|*} cmd=${s#*|}
  selected "$@" || continue
  echo
  echo "== $name =="
  echo "\$ $cmd"
  t0=$SECONDS
  set +e
  (
    set -euo pipefail
    eval "$cmd"
  )
  rc=$?
  set -e
  ran=$((ran + 1))
  took=$(clock $((SECONDS - t0)))
  free=$(free_mib)
  if ((rc == 0)); then
    report+=("$(printf '  %-6s %6s %8s MiB free  %s' ok "$took" "$free" "$name")")
  else
    echo "!! $name failed (exit $rc)"
    report+=("$(printf '  %-6s %6s %8s MiB free  %s (exit %d)' FAILED "$took" "$free" "$name" "$rc")")
    failed+=("$name")
  fi
done

if ((ran == 0)); then
  echo "ci/test.sh: no step matches: $* (see ci/test.sh --list)" >&2
  exit 2
fi
echo
echo "== summary =="
printf '%s\n' "${report[@]}"
total=$(clock $((SECONDS - start)))
if ((${#failed[@]})); then
  joined=$(printf ', %s' "${failed[@]}")
  echo "ci/test.sh: FAILED ${#failed[@]} of $ran steps (${joined:2}) in $total"
  exit 1
fi
echo "ci/test.sh: all $ran step$( ((ran == 1)) || echo s) ok in $total"
