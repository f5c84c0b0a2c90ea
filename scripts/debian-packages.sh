# Sourced by scripts/local-broker.sh and scripts/test-env.sh: the one place that decides whether
# this machine may install Debian packages itself, and installs them.

# True when this process may run apt-get: root on a Debian-like system.
may_install_packages() {
  [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1
}

# apt-get install [OPTIONS] PACKAGE..., with the package lists refreshed first (a fresh container
# has none; once per script run). apt's and dpkg's chatter is kept in a log shown only on failure;
# everything goes to stderr, since stdout belongs to whatever the calling script runs.
install_packages() {
  echo "$SCRIPT_NAME: installing $* (apt-get install)" >&2
  local log status=0
  log=$(mktemp)
  {
    { [ -n "${PACKAGE_LISTS_FRESH:-}" ] || apt-get update -q; } && PACKAGE_LISTS_FRESH=1 &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@"
  } >"$log" 2>&1 || status=$?
  if [ "$status" != 0 ]; then
    cat "$log" >&2
    echo "$SCRIPT_NAME: apt-get install $* failed (exit $status)" >&2
  fi
  rm -f "$log"
  return "$status"
}
