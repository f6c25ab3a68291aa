#!/usr/bin/env bash
# Network namespaces for the multi-host tests (tests/multihost, internal/netns): not a server, but
# the tools they need — iproute2 (ip netns, veth, bridge, tc) and iptables (the tests' stand-in for
# tc netem on kernels built without it) — installed when missing and checked by making and deleting
# a namespace.
#
#   scripts/services/netns.sh start|stop|env
#
# start  install what is missing (Debian packages; needs root), check that a namespace can be made
# stop   delete namespaces that dead test runs left behind ("ffmh-<pid>-..." whose pid is gone)
# env    nothing to export
set -euo pipefail
SERVICE=netns
# shellcheck source=scripts/services/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PREFIX="ffmh-"

do_env() { :; }

# probe: make a namespace with loopback up and delete it again. Named like the tests' own
# namespaces ("ffmh-<pid>-0-probe"), so a probe left by a killed start is cleaned up like them.
probe() {
  local ns="${PREFIX}$$-0-probe" rc=0
  ip netns add "$ns" 2>/dev/null || return 1
  ip -n "$ns" link set lo up 2>/dev/null || rc=1
  ip netns delete "$ns" 2>/dev/null || rc=1
  return $rc
}

# netem_note: say whether this kernel has netem (the tests fall back to iptables + NFQUEUE).
netem_note() {
  local ns="${PREFIX}$$-0-netem" note
  ip netns add "$ns" 2>/dev/null || return 0
  if ip netns exec "$ns" tc qdisc add dev lo root netem delay 1ms 2>/dev/null; then
    note="tc netem available"
  else
    note="this kernel has no tc netem: the tests delay and drop packets with iptables + NFQUEUE instead"
  fi
  ip netns delete "$ns" 2>/dev/null || true
  say "$note"
}

do_start() {
  local t0; t0=$(now_ms)
  local pkgs=()
  command -v ip >/dev/null && command -v tc >/dev/null || pkgs+=(iproute2)
  command -v iptables >/dev/null || pkgs+=(iptables)
  if [ ${#pkgs[@]} -gt 0 ]; then
    apt_install "${pkgs[@]}"
  fi
  command -v ip >/dev/null || die "ip (iproute2) still missing after installing it"
  command -v iptables >/dev/null || die "iptables still missing after installing it"
  if [ "$(id -u)" -ne 0 ]; then
    say "not root: the multi-host tests will skip (they make network namespaces)"
    return 0
  fi
  probe || die "cannot make a network namespace (ip netns add) on this machine"
  netem_note
  say "ready: $(ip -V 2>&1 | head -n1), $(iptables -V 2>&1 | head -n1) in $(elapsed "$t0")"
  do_env
}

do_stop() {
  [ -d /run/netns ] || { say "no namespaces"; return 0; }
  local ns pid removed=0
  for ns in $(ls /run/netns 2>/dev/null); do
    [[ "$ns" =~ ^${PREFIX}([0-9]+)-[0-9]+-[a-z][a-z0-9]*$ ]] || continue
    pid="${BASH_REMATCH[1]}"
    kill -0 "$pid" 2>/dev/null && continue # a live run's
    [ -d "/proc/$pid" ] && continue
    for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null || true; done
    ip netns delete "$ns" 2>/dev/null && removed=$((removed + 1)) || say "could not delete $ns"
  done
  say "removed $removed leftover namespaces"
}

run_action "${1:-}"
