#!/usr/bin/env bash
# Docker engine for integration tests: Debian's docker.io (installed when missing), a dockerd of our own
# on a Unix socket under the services directory (no TCP), with no bridge network and no iptables
# rules, its data and exec roots under the services directory. No image can be pulled here: the
# readiness round trip builds a FROM-scratch image of a static Go binary and runs it with
# `--network none`. dockerd turns IP forwarding on; `stop` sets net.ipv4.ip_forward back to the value
# it had before `start`.
#
#   scripts/services/docker.sh start|stop|env
set -euo pipefail
SERVICE=docker
# shellcheck source=scripts/services/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

STATE="$SERVICES_HOME/docker"
SOCK="$STATE/docker.sock"
PIDFILE="$STATE/dockerd.pid"
LOG="$STATE/dockerd.log"
FWD_SAVED="$STATE/ip_forward.saved"
FWD=/proc/sys/net/ipv4/ip_forward
HOST="unix://$SOCK"
MATCH="dockerd"
IMAGE="faasflow-services-ready:latest"
READY_TIMEOUT="${FAASFLOW_DOCKER_READY_TIMEOUT:-60}"

do_env() {
  echo "export FAASFLOW_DOCKER_HOST=$HOST"
  echo "export DOCKER_HOST=$HOST"
}

dk() { docker -H "$HOST" "$@"; }

find_go() {
  if command -v go >/dev/null; then command -v go; return 0; fi
  [ -x /usr/local/go/bin/go ] && { echo /usr/local/go/bin/go; return 0; }
  return 1
}

# ready_binary: a static Go program that prints a fixed line, built once into the cache.
ready_binary() {
  local dir="$CACHE_HOME/docker/ready" go
  if [ -x "$dir/ready" ]; then echo "$dir/ready"; return 0; fi
  go="$(find_go)" || die "a Go toolchain is needed to build the round-trip image (static binary); none found"
  mkdir -p "$dir/src"
  cat >"$dir/src/go.mod" <<'EOF'
module faasflow.local/ready

go 1.21
EOF
  cat >"$dir/src/main.go" <<'EOF'
package main

import "fmt"

func main() { fmt.Println("faasflow docker ready") }
EOF
  (cd "$dir/src" && CGO_ENABLED=0 GOFLAGS= GOWORK=off GOTOOLCHAIN=local "$go" build -trimpath \
      -ldflags '-s -w' -o "$dir/ready.tmp" . >&2) || die "building the round-trip binary failed"
  mv "$dir/ready.tmp" "$dir/ready"
  echo "$dir/ready"
}

# round_trip: build a FROM-scratch image of the static binary, run it with no network, check its output.
round_trip() {
  local bin ctx out
  bin="$(ready_binary)"
  ctx="$(mktemp -d)"
  cp "$bin" "$ctx/ready"
  printf 'FROM scratch\nCOPY ready /ready\nENTRYPOINT ["/ready"]\n' >"$ctx/Dockerfile"
  if ! DOCKER_BUILDKIT=0 dk build -q -t "$IMAGE" "$ctx" >"$STATE/roundtrip.log" 2>&1; then
    rm -rf "$ctx"; show_log "$STATE/roundtrip.log"; return 1
  fi
  rm -rf "$ctx"
  out="$(dk run --rm --network none "$IMAGE" 2>>"$STATE/roundtrip.log")" || { show_log "$STATE/roundtrip.log"; return 1; }
  [ "$out" = "faasflow docker ready" ] || { say "container printed '$out'"; return 1; }
}

do_start() {
  local t0; t0=$(now_ms)
  if pid_alive "$PIDFILE" "$MATCH"; then
    say "already running (pid $(read_pid "$PIDFILE")) on $HOST"
    do_env
    return 0
  fi
  rm -f "$PIDFILE"
  [ "$(id -u)" -eq 0 ] || die "dockerd needs root"
  if ! command -v dockerd >/dev/null || ! command -v docker >/dev/null; then
    apt_install docker.io
  fi
  mkdir -p "$STATE/data" "$STATE/exec"
  # Remember IP forwarding as it was before our dockerd, unless an earlier start already did and its
  # stop did not run.
  if [ ! -f "$FWD_SAVED" ] && [ -r "$FWD" ]; then
    cat "$FWD" >"$FWD_SAVED"
  fi
  rm -f "$SOCK"
  : >"$LOG"
  (exec setsid dockerd --host "$HOST" --pidfile "$PIDFILE.dockerd" \
      --data-root "$STATE/data" --exec-root "$STATE/exec" \
      --bridge=none --iptables=false --ip6tables=false --ip-forward=false --ip-masq=false \
      </dev/null >>"$LOG" 2>&1 9>&-) &
  echo $! >"$PIDFILE"
  say "started dockerd pid $(read_pid "$PIDFILE"); waiting for $HOST (up to ${READY_TIMEOUT}s)"
  local deadline=$(( $(date +%s) + READY_TIMEOUT ))
  until dk version --format '{{.Server.Version}}' >/dev/null 2>&1; do
    if ! pid_alive "$PIDFILE" "$MATCH"; then
      show_log "$LOG"; rm -f "$PIDFILE"; restore_forwarding; die "dockerd exited during start"
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
      show_log "$LOG"; do_stop; die "dockerd did not answer within ${READY_TIMEOUT}s"
    fi
    sleep 0.2
  done
  say "dockerd $(dk version --format '{{.Server.Version}}' 2>/dev/null) answers; round trip: build a FROM-scratch image, run it with --network none"
  round_trip || { show_log "$LOG"; do_stop; die "round trip (build and run a FROM-scratch image) failed"; }
  say "ready on $HOST (round trip ok) in $(elapsed "$t0")"
  do_env
}

restore_forwarding() {
  [ -f "$FWD_SAVED" ] || return 0
  local want now
  want="$(cat "$FWD_SAVED")"
  now="$(cat "$FWD" 2>/dev/null || true)"
  if [ -n "$want" ] && [ "$now" != "$want" ]; then
    if echo "$want" >"$FWD" 2>/dev/null; then
      say "net.ipv4.ip_forward set back to $want"
    else
      say "warning: could not set net.ipv4.ip_forward back to $want (it is $now)"
      return 0
    fi
  fi
  rm -f "$FWD_SAVED"
}

do_stop() {
  stop_pid "$PIDFILE" "$MATCH" 40
  rm -f "$SOCK" "$PIDFILE.dockerd"
  restore_forwarding
}

run_action "${1:-}"
