#!/usr/bin/env bash
# Makes this machine able to run `npm test`: a RabbitMQ broker on 127.0.0.1:5672 (or AMQP_URL),
# the independent tutorial programs' runtime (Debian's python3-pika), and what checks `serve --http`:
# Prometheus and promtool (Debian's prometheus) and the reference OpenMetrics parser
# (python3-prometheus-client). Idempotent and quick
# when all is there. Installs with apt-get only when run as root; otherwise says what is missing.
# `--release` (npm run test:release) also wants qemu-user-static and the arm64 libc, to run the
# linux-arm64 release binary on an x64 machine. `--cluster` (npm run test:cluster) wants the
# rabbitmq-server package even when AMQP_URL names another broker: those tests boot their own
# three nodes from it, as root (each node runs as the rabbitmq user in a folder it owns).
set -euo pipefail

missing=()
if [ "${1:-}" = "--release" ]; then
  command -v qemu-aarch64-static >/dev/null 2>&1 || missing+=(qemu-user-static)
  [ -e /usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1 ] || missing+=(libc6-arm64-cross)
fi
if [ "${1:-}" = "--cluster" ]; then
  [ "$(id -u)" = 0 ] || { echo "test-env: the cluster tests start RabbitMQ nodes as the rabbitmq user: run them as root" >&2; exit 1; }
  command -v rabbitmq-server >/dev/null 2>&1 || missing+=(rabbitmq-server)
fi
[ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import pika' 2>/dev/null || missing+=(python3-pika)
[ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import prometheus_client' 2>/dev/null || missing+=(python3-prometheus-client)
# Installed without its recommends (a node exporter, a service the tests do not use).
lean=()
command -v promtool >/dev/null 2>&1 && command -v prometheus >/dev/null 2>&1 || lean+=(prometheus)
if [ -z "${AMQP_URL:-}" ] && ! command -v rabbitmq-server >/dev/null 2>&1 && [[ ! " ${missing[*]} " =~ " rabbitmq-server " ]]; then missing+=(rabbitmq-server); fi

if [ $((${#missing[@]} + ${#lean[@]})) -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "test-env: installing ${missing[*]} ${lean[*]}" >&2
    apt-get update -qq >&2
    [ ${#missing[@]} -eq 0 ] || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
    # On a machine run by systemd, the package also enables a Prometheus of its own on :9090; the tests start theirs.
    [ ${#lean[@]} -eq 0 ] || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${lean[@]}" >&2
  else
    echo "test-env: missing ${missing[*]} ${lean[*]}: install them (e.g. 'sudo apt-get install ${missing[*]} ${lean[*]}')" >&2
    exit 1
  fi
fi

broker_up() { (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null; }

if [ -z "${AMQP_URL:-}" ] && ! broker_up; then
  echo "test-env: starting RabbitMQ (rabbitmq-server -detached)" >&2
  rabbitmq-server -detached >&2 || true
  for _ in $(seq 1 60); do broker_up && break; sleep 1; done
  broker_up || { echo "test-env: RabbitMQ did not come up on 127.0.0.1:5672" >&2; exit 1; }
  rabbitmqctl await_startup >/dev/null 2>&1 || true
fi
