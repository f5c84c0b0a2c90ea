#!/usr/bin/env bash
# Makes sure a RabbitMQ broker listens on this machine, for `npm start` and `npm test`, unless
# AMQP_URL or AMQP_URL_FILE names another one:
#   - listening already: nothing to do;
#   - installed but down: start it (rabbitmq-server -detached, as root);
#   - not installed: install Debian's rabbitmq-server when this may (root with apt-get), else say
#     in one line the command that installs it and exit 1.
# With a command after it, runs that command once the broker is up:
#   bash scripts/local-broker.sh dist/fibrpc serve        (what `npm start` does)
# RABBITMQ_NODE_PORT, RabbitMQ's own variable, moves the port looked at and started on (default
# 5672; the node's name, folders and config follow RabbitMQ's other RABBITMQ_* variables); the
# command is then given AMQP_URL for it. The script's own test uses this to start a throwaway node
# and leave the shared broker alone.
set -euo pipefail
SCRIPT_NAME=local-broker
# shellcheck source=scripts/debian-packages.sh
. "$(dirname "$0")/debian-packages.sh"

port=${RABBITMQ_NODE_PORT:-5672}
say() { echo "$SCRIPT_NAME: $*" >&2; }
broker_up() { (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; }

# The one command a user would type to get a broker, for this kind of machine.
install_hint() {
  if command -v apt-get >/dev/null 2>&1; then echo "sudo apt-get install rabbitmq-server"
  elif command -v dnf >/dev/null 2>&1; then echo "sudo dnf install rabbitmq-server"
  elif command -v brew >/dev/null 2>&1; then echo "brew install rabbitmq && brew services start rabbitmq"
  else echo "see https://www.rabbitmq.com/docs/download"
  fi
}

start_hint() {
  if [ -d /run/systemd/system ]; then echo "sudo systemctl start rabbitmq-server"; else echo "sudo rabbitmq-server -detached"; fi
}

ensure_broker() {
  broker_up && return 0
  if ! command -v rabbitmq-server >/dev/null 2>&1; then
    if ! may_install_packages; then
      say "no RabbitMQ on 127.0.0.1:$port and none installed; install it with '$(install_hint)' (or point AMQP_URL at a broker), then run this again"
      exit 1
    fi
    install_packages rabbitmq-server
    hash -r
    command -v rabbitmq-server >/dev/null 2>&1 || { say "apt-get installed rabbitmq-server but it is not on PATH ($PATH)"; exit 1; }
    broker_up && return 0 # the package's own service start, where there is an init system
  fi
  if [ "$(id -u)" != 0 ]; then
    # Debian's rabbitmq-server refuses anyone but root and the rabbitmq user.
    say "RabbitMQ is installed but not running on 127.0.0.1:$port; start it with '$(start_hint)', then run this again"
    exit 1
  fi
  say "starting RabbitMQ on 127.0.0.1:$port (rabbitmq-server -detached)"
  rabbitmq-server -detached >&2 || true
  for _ in $(seq 1 90); do broker_up && break; sleep 1; done
  broker_up || { say "RabbitMQ did not come up on 127.0.0.1:$port; its logs are under ${RABBITMQ_LOG_BASE:-/var/log/rabbitmq}"; exit 1; }
  # The port opens a moment before every plugin and vhost is ready.
  rabbitmqctl await_startup --timeout 60 >/dev/null 2>&1 || true
}

if [ -z "${AMQP_URL:-}" ] && [ -z "${AMQP_URL_FILE:-}" ]; then
  ensure_broker
  if [ "$port" != 5672 ]; then export AMQP_URL="amqp://guest:guest@127.0.0.1:$port"; fi
fi
if [ $# -gt 0 ]; then exec "$@"; fi
