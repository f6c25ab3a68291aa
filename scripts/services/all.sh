#!/usr/bin/env bash
# Start, stop or print the environment of every real service the integration tests use:
# Redis, CouchDB (pouchdb-server), Kafka and Docker. Names after the action pick a subset.
#
#   scripts/services/all.sh start|stop|env [redis] [couchdb] [kafka] [docker]
#
# `start` and `env` print only `export ...` lines on stdout:
#   eval "$(scripts/services/all.sh start)"
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ALL=(redis couchdb kafka docker)
ALL+=(netns) # the multi-host tests: iproute2 and iptables, no server

usage() {
  echo "usage: $(basename "$0") start|stop|env [${ALL[*]}]" >&2
  exit 2
}

action="${1:-}"
[ $# -gt 0 ] && shift
case "$action" in start | stop | env) ;; *) usage ;; esac

services=("$@")
[ ${#services[@]} -gt 0 ] || services=("${ALL[@]}")
for s in "${services[@]}"; do
  [ -x "$HERE/$s.sh" ] && [[ " ${ALL[*]} " == *" $s "* ]] || { echo "unknown service: $s (known: ${ALL[*]})" >&2; exit 2; }
done

case "$action" in
  start)
    t0=$(date +%s)
    for s in "${services[@]}"; do
      "$HERE/$s.sh" start || { echo "[all] $s failed to start; the services started before it are still running (stop them with: $0 stop)" >&2; exit 1; }
    done
    echo "[all] started: ${services[*]} in $(( $(date +%s) - t0 ))s" >&2
    ;;
  stop)
    # Stop in reverse order; try every one even when one fails.
    failed=()
    for ((i = ${#services[@]} - 1; i >= 0; i--)); do
      "$HERE/${services[i]}.sh" stop || failed+=("${services[i]}")
    done
    if [ ${#failed[@]} -gt 0 ]; then
      echo "[all] failed to stop: ${failed[*]}" >&2
      exit 1
    fi
    ;;
  env)
    for s in "${services[@]}"; do "$HERE/$s.sh" env; done
    ;;
esac
