#!/usr/bin/env bash
# Redis for integration tests: Debian's redis-server (installed when missing), without persistence,
# so every start begins empty.
#
#   scripts/services/redis.sh start|stop|env
#
# Port: FAASFLOW_REDIS_PORT (default 6379), on 127.0.0.1 only.
set -euo pipefail
SERVICE=redis
# shellcheck source=scripts/services/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PORT="${FAASFLOW_REDIS_PORT:-6379}"
check_port_number FAASFLOW_REDIS_PORT "$PORT"
STATE="$SERVICES_HOME/redis"
PIDFILE="$STATE/redis.pid"
LOG="$STATE/redis.log"
MATCH="redis-server"
ADDR="127.0.0.1:$PORT"
READY_TIMEOUT="${FAASFLOW_REDIS_READY_TIMEOUT:-20}"

do_env() {
  echo "export FAASFLOW_REDIS_ADDR=$ADDR"
}

cli() { redis-cli -h 127.0.0.1 -p "$PORT" "$@"; }

# round_trip: SET a key, GET it back, delete it.
round_trip() {
  local key="faasflow:ready:$$" val; val="ok-$(date +%s%N)"
  [ "$(cli SET "$key" "$val" 2>/dev/null)" = OK ] || return 1
  [ "$(cli GET "$key" 2>/dev/null)" = "$val" ] || return 1
  cli DEL "$key" >/dev/null 2>&1
}

do_start() {
  local t0; t0=$(now_ms)
  if pid_alive "$PIDFILE" "$MATCH"; then
    say "already running (pid $(read_pid "$PIDFILE")) on $ADDR"
    do_env
    return 0
  fi
  rm -f "$PIDFILE"
  if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
    apt_install redis-server redis-tools
  fi
  check_port Redis "$PORT"
  mkdir -p "$STATE"
  : >"$LOG"
  # --daemonize: redis-server forks and writes its own pid file once it is listening.
  redis-server --port "$PORT" --bind 127.0.0.1 --protected-mode yes --save '' --appendonly no \
    --dir "$STATE" --daemonize yes --pidfile "$PIDFILE" --logfile "$LOG" </dev/null >/dev/null 2>&1 9>&- ||
    { show_log "$LOG"; die "redis-server failed to start"; }
  local deadline=$(( $(date +%s) + READY_TIMEOUT ))
  until [ "$(cli ping 2>/dev/null)" = PONG ]; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      show_log "$LOG"; do_stop; die "no PONG within ${READY_TIMEOUT}s"
    fi
    sleep 0.1
  done
  pid_alive "$PIDFILE" "$MATCH" || { show_log "$LOG"; die "answered on $ADDR but its pid file $PIDFILE names no redis-server"; }
  round_trip || { show_log "$LOG"; do_stop; die "round trip (SET, GET) failed"; }
  say "ready on $ADDR, pid $(read_pid "$PIDFILE") (ping and round trip ok) in $(elapsed "$t0")"
  do_env
}

do_stop() {
  stop_pid "$PIDFILE" "$MATCH" 20
}

run_action "${1:-}"
