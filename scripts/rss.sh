#!/usr/bin/env bash
# Memory check: 1,000 back-to-back wordcount invocations on a fresh local
# cluster with no restart. Prints the RSS of the gateway and each worker
# after the first 100 and after all 1,000, and fails if any grew by more
# than 10%. Usage: scripts/rss.sh [TOTAL] (default 1000); needs `make build`.
set -euo pipefail
cd "$(dirname "$0")/.."
total=${1:-1000}
first=100
bin=$PWD/bin
export FAASFLOW_HOME=$(mktemp -d)
export FAASFLOW_GATEWAY=
trap '"$bin/faasflow" cluster down >/dev/null 2>&1 || true; rm -rf "$FAASFLOW_HOME"' EXIT

# Pick a free block of ports so a cluster already running is not disturbed.
base=$((17000 + RANDOM % 20000))
"$bin/faasflow" cluster up --workers 3 --gateway-port "$base" --worker-port "$((base + 1))"
"$bin/faasflow" deploy benchmarks/wordcount >/dev/null

rss() { # name pid → kB
  awk '/^VmRSS:/ {print $2}' "/proc/$1/status"
}
pids=$(python3 -c 'import json,sys; [print(p["name"], p["pid"]) for p in json.load(open(sys.argv[1]))["processes"]]' "$FAASFLOW_HOME/cluster.json")

"$bin/faasflow" invoke wordcount --repeat "$first"
declare -A after_first
while read -r name pid; do after_first[$name]=$(rss "$pid"); done <<<"$pids"

"$bin/faasflow" invoke wordcount --repeat "$((total - first))"

printf '\n%-10s %14s %14s %8s\n' process "RSS@$first(kB)" "RSS@$total(kB)" growth
fail=0
while read -r name pid; do
  a=${after_first[$name]}
  b=$(rss "$pid")
  growth=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%+.1f%%", (b - a) * 100 / a }')
  printf '%-10s %14d %14d %8s\n' "$name" "$a" "$b" "$growth"
  if awk -v a="$a" -v b="$b" 'BEGIN { exit !(b > a * 1.10) }'; then fail=1; fi
done <<<"$pids"
if [ "$fail" -ne 0 ]; then
  echo "RSS grew by more than 10% between invocation $first and $total"
  exit 1
fi
echo "RSS within 10% between invocation $first and $total"
