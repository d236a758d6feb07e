#!/usr/bin/env bash
# Installs the third-party programs promstack is tested against, when they are missing.
# Idempotent: on a machine that has everything it changes nothing and takes about a second.
#
# Usage: ci/install-peers.sh [VENV_DIR [LATEST_VENV_DIR]]
#        (defaults: target/peers-venv and target/peers-venv-latest at the repo root)
#
#   Debian packages  promtool + prometheus, pushgateway, node_exporter, carbon-cache, whisper,
#                    qemu-system-arm, qemu-system-misc (riscv32), wrk, curl, size (binutils),
#                    python3 + venv
#   Python venv      prometheus_client==0.8.0 (the reference implementation), from PyPI
#   Python venv      prometheus_client==0.26.0 (the newest, stricter OpenMetrics parser), from PyPI
#   rustup targets   the no_std cross targets and the firmware target
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
venv=${1:-target/peers-venv}
latest_venv=${2:-target/peers-venv-latest}
python_client=prometheus_client==0.8.0
latest_client=prometheus_client==0.26.0
rust_targets=(thumbv6m-none-eabi thumbv7m-none-eabi thumbv7em-none-eabihf riscv32imc-unknown-none-elf)
# command-that-proves-it-is-there:debian-package
debian=(
  promtool:prometheus
  prometheus:prometheus
  prometheus-pushgateway:prometheus-pushgateway
  prometheus-node-exporter:prometheus-node-exporter
  carbon-cache:graphite-carbon
  whisper-fetch:python3-whisper
  qemu-system-arm:qemu-system-arm
  qemu-system-riscv32:qemu-system-misc
  wrk:wrk
  curl:curl
  size:binutils
  python3:python3
)

say() { echo "install-peers: $*"; }

# --- Debian packages -------------------------------------------------------------------------
need=()
for pair in "${debian[@]}"; do
  cmd=${pair%%:*} pkg=${pair#*:}
  if ! command -v "$cmd" >/dev/null 2>&1; then
    case " ${need[*]-} " in *" $pkg "*) ;; *) need+=("$pkg") ;; esac
  fi
done
# Debian's python3 ships venv without ensurepip; python3-venv brings it.
if ! command -v python3 >/dev/null 2>&1 || ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
  need+=(python3-venv)
fi
if ((${#need[@]})); then
  say "installing Debian packages: ${need[*]}"
  if ! command -v apt-get >/dev/null 2>&1; then
    say "apt-get not found; install these by hand: ${need[*]}" >&2
    exit 1
  fi
  sudo=()
  if [ "$(id -u)" -ne 0 ]; then sudo=(sudo); fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq >/dev/null
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# --- the Python clients, each in a venv -------------------------------------------------------
has_client() { # VENV VERSION
  "$1/bin/python" - "$2" <<'EOF' >/dev/null 2>&1
import importlib.metadata, sys
sys.exit(importlib.metadata.version("prometheus_client") != sys.argv[1])
EOF
}
install_client() { # VENV REQUIREMENT
  local dir=$1 req=$2
  has_client "$dir" "${req#*==}" && return 0
  if [ ! -x "$dir/bin/python" ]; then
    say "creating venv $dir"
    mkdir -p "$(dirname "$dir")"
    python3 -m venv "$dir"
  fi
  say "installing $req into $dir"
  "$dir/bin/python" -m pip install -q --disable-pip-version-check "$req"
  has_client "$dir" "${req#*==}" || { say "$req is still not importable from $dir" >&2; exit 1; }
}
install_client "$venv" "$python_client"
install_client "$latest_venv" "$latest_client"

# --- rustup targets --------------------------------------------------------------------------
if command -v rustup >/dev/null 2>&1; then
  installed=$(rustup target list --installed)
  for t in "${rust_targets[@]}"; do
    if ! grep -qx "$t" <<<"$installed"; then
      say "adding rust target $t"
      rustup target add "$t" >/dev/null
    fi
  done
else
  for t in "${rust_targets[@]}"; do
    [ -d "$(rustc --print sysroot)/lib/rustlib/$t" ] || {
      say "rustup not found and the standard library for $t is missing" >&2
      exit 1
    }
  done
fi

say "peers ready (python clients: $venv/bin/python, $latest_venv/bin/python)"
