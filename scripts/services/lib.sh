# Shared helpers for scripts/services/*.sh. Sourced, not run.
#
# State (pid files, data, logs) lives under $FAASFLOW_SERVICES_DIR (default ~/.faasflow/services);
# slow-to-rebuild caches (Kafka jars, pouchdb-server's node_modules) under $FAASFLOW_CACHE
# (default ~/.cache/faasflow). Messages go to stderr; `start` and `env` print only `export ...`
# lines on stdout, so `eval "$(scripts/services/redis.sh start)"` works.

SERVICES_HOME="${FAASFLOW_SERVICES_DIR:-$HOME/.faasflow/services}"
CACHE_HOME="${FAASFLOW_CACHE:-$HOME/.cache/faasflow}"
SERVICES_SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SERVICE="${SERVICE:-service}"

say() { printf '[%s] %s\n' "$SERVICE" "$*" >&2; }
die() { printf '[%s] error: %s\n' "$SERVICE" "$*" >&2; exit 1; }

usage() {
  printf 'usage: %s start|stop|env\n' "$(basename "$0")" >&2
  printf '  start  install what is missing, start on 127.0.0.1, wait until ready, print exports\n' >&2
  printf '  stop   stop the server this script started (by its pid file) and wait for it\n' >&2
  printf '  env    print the environment variables to export\n' >&2
  exit 2
}

# now_ms: milliseconds since the epoch, for timing messages.
now_ms() { date +%s%3N; }

# elapsed START_MS: seconds since START_MS, one decimal.
elapsed() { local d=$(( $(now_ms) - $1 )); printf '%d.%01ds' $((d / 1000)) $(((d % 1000) / 100)); }

# need_root WHAT: fail clearly when installing needs root and we are not.
need_root() {
  [ "$(id -u)" -eq 0 ] || die "$1 is missing and installing it needs root (apt-get); install it or rerun as root"
}

# apt_install PKG...: install Debian packages that are not installed yet. Daemons that the packages
# would start on their own are held back by a policy-rc.d (created only for the install, if there is none).
APT_UPDATED=0
apt_install() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  need_root "${missing[*]}"
  command -v apt-get >/dev/null || die "apt-get not found: install ${missing[*]} yourself"
  say "installing Debian packages: ${missing[*]}"
  local made_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    made_policy=1
  fi
  local rc=0 alog
  mkdir -p "$SERVICES_HOME"
  alog="$SERVICES_HOME/apt.log"
  : >"$alog"
  if [ "$APT_UPDATED" -eq 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -q -o DPkg::Lock::Timeout=300 >>"$alog" 2>&1 || rc=$?
    APT_UPDATED=1
  fi
  if [ "$rc" -eq 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=300 "${missing[@]}" >>"$alog" 2>&1 || rc=$?
  fi
  if [ "$made_policy" -eq 1 ]; then rm -f /usr/sbin/policy-rc.d; fi
  if [ "$rc" -ne 0 ]; then
    show_log "$alog"
    die "apt-get install ${missing[*]} failed (exit $rc); see $alog"
  fi
}

# read_pid FILE: print the pid stored in FILE (nothing if absent or not a number).
read_pid() {
  local f="$1" pid=""
  [ -f "$f" ] && pid="$(tr -dc '0-9' <"$f" 2>/dev/null || true)"
  printf '%s' "$pid"
}

# pid_alive FILE MATCH: true when the pid in FILE is running and its command line contains MATCH
# (so a recycled pid of an unrelated process is never taken for ours).
pid_alive() {
  local pid; pid="$(read_pid "$1")"
  [ -n "$pid" ] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$2"
}

# stop_pid FILE MATCH TIMEOUT_S: send TERM to the process in FILE, wait up to TIMEOUT_S, then KILL.
stop_pid() {
  local f="$1" match="$2" timeout="${3:-20}" pid i
  if ! pid_alive "$f" "$match"; then
    say "not running"
    rm -f "$f"
    return 0
  fi
  pid="$(read_pid "$f")"
  say "stopping pid $pid"
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < timeout * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    say "pid $pid still running after ${timeout}s; sending KILL"
    kill -KILL "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  kill -0 "$pid" 2>/dev/null && die "pid $pid did not exit"
  rm -f "$f"
  say "stopped"
}

# port_busy PORT: true when something listens on 127.0.0.1:PORT.
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# check_port NAME PORT: fail clearly when the port is taken by something we did not start.
check_port() {
  if port_busy "$2"; then
    die "$1 port 127.0.0.1:$2 is already in use by another process; free it or set another port"
  fi
}

# check_port_number NAME VALUE: a port must be a number.
check_port_number() {
  [[ "$2" =~ ^[0-9]+$ ]] && [ "$2" -ge 1 ] && [ "$2" -le 65535 ] || die "$1 must be a port number, got '$2'"
}

# show_log FILE: the last lines of a log, for a failure message.
show_log() {
  [ -f "$1" ] || return 0
  say "last lines of $1:"
  tail -n 30 "$1" | sed 's/^/    /' >&2
}

# file_hash FILE...: short content hash, used to key caches on the committed pin files.
file_hash() { cat "$@" | sha256sum | cut -c1-16; }

# lock_service: one start or stop of a service at a time (a second caller waits for the first).
lock_service() {
  mkdir -p "$SERVICES_HOME"
  exec 9>"$SERVICES_HOME/.$SERVICE.lock"  # daemons are started with 9>&- so they never hold it
  if command -v flock >/dev/null; then
    flock -w 900 9 || die "another start or stop of $SERVICE holds $SERVICES_HOME/.$SERVICE.lock"
  fi
}

# run_action ACTION: dispatch to do_start / do_stop / do_env defined by the sourcing script.
run_action() {
  case "${1:-}" in
    start) lock_service; do_start ;;
    stop) lock_service; do_stop ;;
    env) do_env ;;
    *) usage ;;
  esac
}
