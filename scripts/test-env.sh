#!/usr/bin/env bash
# Makes this machine able to run `npm test`: what the tests run besides fibrpc, from Debian, and a
# RabbitMQ broker (scripts/local-broker.sh, the same script `npm start` uses). Idempotent and quick
# when all is there. Installs with apt-get only when run as root; otherwise says what is missing.
#   npm test:          python3-pika (the independent tutorial programs); what checks `serve --http`:
#                      Prometheus and promtool (Debian's prometheus) and the reference OpenMetrics
#                      parser (python3-prometheus-client); bash-completion, zsh and fish (the
#                      completion tests drive each shell's own completion machinery).
#   --release (npm run test:release) also: qemu-user-static and the arm64 libc, to run the
#                      linux-arm64 binary on an x64 machine; unzip and curl for the archives and the
#                      install one-liner; podman and mmdebstrap to build and try the container image
#                      (optional: where they cannot be installed, that test is skipped and says so).
#   --cluster (npm run test:cluster) also: the rabbitmq-server package even when AMQP_URL names
#                      another broker: those tests boot their own three nodes from it, as root (each
#                      node runs as the rabbitmq user in a folder it owns).
set -euo pipefail
SCRIPT_NAME=test-env
# shellcheck source=scripts/debian-packages.sh
. "$(dirname "$0")/debian-packages.sh"

missing=()
optional=()
lean=() # installed without their recommends
need() { # need PACKAGE TEST...: PACKAGE is missing unless the test succeeds
  local package=$1; shift
  "$@" >/dev/null 2>&1 || missing+=("$package")
}
has() { command -v "$1"; }

need python3-pika eval '[ -x /usr/bin/python3 ] && /usr/bin/python3 -c "import pika"'
need python3-prometheus-client eval '[ -x /usr/bin/python3 ] && /usr/bin/python3 -c "import prometheus_client"'
# Without its recommends (a node exporter, a service the tests do not use); on a machine run by
# systemd the package also enables a Prometheus of its own on :9090; the tests start theirs.
{ has promtool && has prometheus; } >/dev/null 2>&1 || lean+=(prometheus)
need bash-completion test -f /usr/share/bash-completion/bash_completion
need zsh has zsh
need fish has fish
case "${1:-}" in
  --release)
    need qemu-user-static has qemu-aarch64-static
    need libc6-arm64-cross test -e /usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1
    need unzip has unzip
    need curl has curl
    has podman >/dev/null || optional+=(podman)
    has mmdebstrap >/dev/null || optional+=(mmdebstrap)
    ;;
  --cluster)
    [ "$(id -u)" = 0 ] || { echo "$SCRIPT_NAME: the cluster tests start RabbitMQ nodes as the rabbitmq user: run them as root" >&2; exit 1; }
    need rabbitmq-server has rabbitmq-server
    ;;
esac

required=("${missing[@]}" "${lean[@]}")
if [ ${#required[@]} -gt 0 ] || [ ${#optional[@]} -gt 0 ]; then
  if may_install_packages; then
    [ $((${#missing[@]} + ${#optional[@]})) -eq 0 ] || install_packages "${missing[@]}" "${optional[@]}"
    [ ${#lean[@]} -eq 0 ] || install_packages --no-install-recommends "${lean[@]}"
  elif [ ${#required[@]} -gt 0 ]; then
    echo "$SCRIPT_NAME: missing ${required[*]}: install them (e.g. 'sudo apt-get install ${required[*]}')" >&2
    exit 1
  else
    echo "$SCRIPT_NAME: ${optional[*]} not installed: the container image test will be skipped" >&2
  fi
fi

bash "$(dirname "$0")/local-broker.sh"
