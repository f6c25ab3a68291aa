#!/usr/bin/env bash
# CouchDB-compatible server for integration tests: pouchdb-server from npm, pinned by the committed
# scripts/services/couchdb/package.json and package-lock.json, installed with `npm ci` into
# $FAASFLOW_CACHE/couchdb/<lockfile hash>/ and run in memory (every start begins empty).
#
#   scripts/services/couchdb.sh start|stop|env
#
# Port: FAASFLOW_COUCHDB_PORT (default 5984), on 127.0.0.1 only.
set -euo pipefail
SERVICE=couchdb
# shellcheck source=scripts/services/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PORT="${FAASFLOW_COUCHDB_PORT:-5984}"
check_port_number FAASFLOW_COUCHDB_PORT "$PORT"
STATE="$SERVICES_HOME/couchdb"
PIDFILE="$STATE/couchdb.pid"
LOG="$STATE/couchdb.log"
PIN="$SERVICES_SRC/couchdb"
APP="$CACHE_HOME/couchdb/$(file_hash "$PIN/package.json" "$PIN/package-lock.json")"
BIN="$APP/node_modules/pouchdb-server/bin/pouchdb-server"
MATCH="pouchdb-server"
URL="http://127.0.0.1:$PORT"
READY_TIMEOUT="${FAASFLOW_COUCHDB_READY_TIMEOUT:-60}"

do_env() {
  echo "export FAASFLOW_COUCHDB_URL=$URL"
}

install() {
  if [ -f "$APP/.installed" ] && [ -f "$BIN" ]; then
    return 0
  fi
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    apt_install nodejs npm
  fi
  local t0; t0=$(now_ms)
  say "installing pouchdb-server from the lockfile into $APP (npm ci, once per lockfile)"
  mkdir -p "$APP"
  rm -f "$APP/.installed"
  cp "$PIN/package.json" "$PIN/package-lock.json" "$APP/"
  # --ignore-scripts: leveldown loads its bundled prebuilt binary at run time; the only other native
  # package (sqlite3, for pouchdb-server's optional --sqlite mode) is not used here.
  if ! (cd "$APP" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >"$APP/npm-ci.log" 2>&1); then
    show_log "$APP/npm-ci.log"
    die "npm ci failed; see $APP/npm-ci.log"
  fi
  [ -f "$BIN" ] || die "npm ci finished but $BIN is missing"
  touch "$APP/.installed"
  say "installed in $(elapsed "$t0")"
}

# round_trip: GET /, then create a scratch database, PUT and GET a document, delete the database.
round_trip() {
  local db="faasflow_ready_$$" out
  curl -fsS "$URL/" | grep -q 'Welcome' || return 1
  curl -fsS -X PUT "$URL/$db" >/dev/null || return 1
  curl -fsS -X PUT -H 'Content-Type: application/json' -d '{"hello":"faasflow"}' "$URL/$db/doc1" >/dev/null || return 1
  out="$(curl -fsS "$URL/$db/doc1")" || return 1
  curl -fsS -X DELETE "$URL/$db" >/dev/null || return 1
  printf '%s' "$out" | grep -q '"hello":"faasflow"'
}

do_start() {
  local t0; t0=$(now_ms)
  command -v curl >/dev/null || apt_install curl
  if pid_alive "$PIDFILE" "$MATCH"; then
    say "already running (pid $(read_pid "$PIDFILE")) on $URL"
    do_env
    return 0
  fi
  rm -f "$PIDFILE"
  install
  check_port CouchDB "$PORT"
  mkdir -p "$STATE"
  : >"$LOG"
  rm -f "$STATE/config.json" "$STATE/log.txt"
  # pouchdb-server writes its config.json and log.txt into the working directory: run it in $STATE.
  (cd "$STATE" && exec setsid node "$BIN" --host 127.0.0.1 --port "$PORT" --in-memory --no-color \
      --config "$STATE/config.json" </dev/null >>"$LOG" 2>&1 9>&-) &
  echo $! >"$PIDFILE"
  say "started pid $(read_pid "$PIDFILE"); waiting for $URL (up to ${READY_TIMEOUT}s)"
  local deadline=$(( $(date +%s) + READY_TIMEOUT ))
  until curl -fsS -o /dev/null "$URL/" 2>/dev/null; do
    if ! pid_alive "$PIDFILE" "$MATCH"; then
      show_log "$LOG"; rm -f "$PIDFILE"; die "pouchdb-server exited during start"
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
      show_log "$LOG"; do_stop; die "not ready within ${READY_TIMEOUT}s"
    fi
    sleep 0.2
  done
  round_trip || { show_log "$LOG"; do_stop; die "round trip (create db, put, get a document) failed"; }
  say "ready on $URL (round trip ok) in $(elapsed "$t0")"
  do_env
}

do_stop() {
  stop_pid "$PIDFILE" "$MATCH" 20
}

run_action "${1:-}"
