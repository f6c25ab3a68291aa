#!/usr/bin/env bash
# Soak test: a fresh local cluster under a bounded mixed load for DURATION,
# sampling every INTERVAL the RSS, goroutines and open files of the gateway
# and of each worker, to catch leaks a short test cannot see.
#
#   scripts/soak.sh [DURATION]        (default 30m; also DURATION=... in the environment)
#
# Load, from CLIENTS loops at once, round after round until DURATION is up or
# MAX_INVOCATIONS have been made: wordcount (benchmarks/), FaaSFlow v1's video
# and fileprocessing synthetic workflows with run times × TIME_SCALE and data
# sizes × SIZE_SCALE, an async invocation polled with `status --wait`, and
# faults-fail (benchmarks/faults), which must fail.
#
# Samples: RSS (VmRSS of /proc/PID/status, kB), goroutines (go_goroutines on
# /metrics), open files (entries of /proc/PID/fd). They are printed as a
# table and written to CSV (default results/soak-<time>.csv). The verdict
# compares the last sample with the first one after WARMUP (default: a tenth
# of DURATION, at least INTERVAL).
#
# Exit status: 0 when the load ran without unexpected failures and nothing
# grew past its bound; 1 on errors (a failed invocation that should have
# succeeded, a process gone, a cluster that would not start); 2 when the
# load ran clean but RSS grew more than RSS_MAX_GROWTH % (default 25), or
# goroutines or open files grew more than GROWTH_SLACK (default 20) above
# 1.5 × their first value.
#
# Needs `make build`. Everything it starts it stops by PID on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${1:-${DURATION:-30m}}
INTERVAL=${INTERVAL:-60}
CLIENTS=${CLIENTS:-2}
WORKERS=${WORKERS:-3}
MAX_INVOCATIONS=${MAX_INVOCATIONS:-200000}
TIME_SCALE=${TIME_SCALE:-0.01}
SIZE_SCALE=${SIZE_SCALE:-0.01}
RSS_MAX_GROWTH=${RSS_MAX_GROWTH:-25}
GROWTH_SLACK=${GROWTH_SLACK:-20}
CALL_TIMEOUT=${CALL_TIMEOUT:-120}
V1_DIR=${V1_DIR:-$(cd .. && pwd)/shared/reference/faasflow/faasflow-v1/workflows}
# The gateway remembers KEEP invocations (its default is 10,000): a small
# number fills within the warm-up, so growth after it is a leak, not the
# remembered set filling up.
KEEP=${KEEP:-1000}
bin=$PWD/bin

seconds_of() { # 30m, 90s, 1h, 45 → seconds
  local d=$1
  case $d in
    *h) echo $((${d%h} * 3600)) ;;
    *m) echo $((${d%m} * 60)) ;;
    *s) echo "${d%s}" ;;
    *) echo "$d" ;;
  esac
}
duration_s=$(seconds_of "$DURATION")
if ! [[ $duration_s =~ ^[0-9]+$ && $INTERVAL =~ ^[0-9]+$ ]] || [ "$duration_s" -le 0 ] || [ "$INTERVAL" -le 0 ]; then
  echo "soak: DURATION ($DURATION) must be like 30m, 90s or 1h, and INTERVAL ($INTERVAL) whole seconds" >&2
  exit 1
fi
warmup_s=$(seconds_of "${WARMUP:-$((duration_s / 10))}")
[ "$warmup_s" -ge "$INTERVAL" ] || warmup_s=$INTERVAL
for b in faasflow faasflow-gateway faasflow-worker faasflow-synthetic; do
  [ -x "$bin/$b" ] || { echo "soak: $bin/$b is missing: run make build" >&2; exit 1; }
done

stamp=$(date +%Y%m%d-%H%M%S)
CSV=${CSV:-results/soak-$stamp.csv}
mkdir -p "$(dirname "$CSV")"
export FAASFLOW_HOME=$(mktemp -d /tmp/faasflow-soak.XXXXXX)
export FAASFLOW_GATEWAY=
work=$FAASFLOW_HOME/soak
mkdir -p "$work"

children=() # PIDs of the load loops and the sampler
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  for pid in "${children[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${children[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  # cluster down stops exactly the processes recorded in cluster.json.
  "$bin/faasflow" cluster down >/dev/null 2>&1 || true
  if [ "$rc" -ne 0 ] && [ -d "$FAASFLOW_HOME/logs" ]; then
    echo "soak: exit $rc; last lines of the process logs:" >&2
    tail -n 5 "$FAASFLOW_HOME"/logs/*.log >&2 || true
  fi
  rm -rf "$FAASFLOW_HOME"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ff() { timeout "$CALL_TIMEOUT" "$bin/faasflow" "$@"; }

echo "==> cluster up ($WORKERS workers, home $FAASFLOW_HOME)"
base=$((17000 + RANDOM % 20000))
ff cluster up --workers "$WORKERS" --gateway-port "$base" --worker-port "$((base + 1))" --keep "$KEEP"

# name pid url, one line per process, from the cluster's state file.
procs=$(python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
for p in s["processes"]:
    print(p["name"], p["pid"], "http://" + p["listen"])
' "$FAASFLOW_HOME/cluster.json")

echo "==> deploy"
ff deploy benchmarks/wordcount >/dev/null
ff deploy benchmarks/faults/workflow-fail.yaml >/dev/null
v1_flows=()
for name in video fileprocessing; do
  src=$V1_DIR/$name.flat_workflow.yaml
  if [ ! -f "$src" ]; then
    echo "soak: $src not found; $name left out of the load" >&2
    continue
  fi
  ff convert "$src" -o "$work/$name.raw.yaml" >/dev/null
  perl -pe "s/(seconds: )([0-9.eE+-]+)/\$1.(\$2*$TIME_SCALE)/e; s/(size: )([0-9]+)/\$1.int(\$2*$SIZE_SCALE)/e" \
    "$work/$name.raw.yaml" >"$work/$name.yaml"
  ff deploy "$work/$name.yaml" >/dev/null
  v1_flows+=("$name")
done
echo "deployed: wordcount faults-fail ${v1_flows[*]} (v1 times × $TIME_SCALE, sizes × $SIZE_SCALE)"

start=$(date +%s)
deadline=$((start + duration_s))

# load CLIENT: rounds of invocations until the deadline or its share of
# MAX_INVOCATIONS; counts go to $work/load-CLIENT.
load() {
  local c=$1 made=0 bad=0 share=$((MAX_INVOCATIONS / CLIENTS)) round=0 id out
  local counts=$work/load-$c
  record() { echo "made=$made bad=$bad" >"$counts"; }
  fail() { bad=$((bad + 1)); echo "soak: client $c: $*" >>"$work/errors"; }
  record
  while [ "$(date +%s)" -lt "$deadline" ] && [ "$made" -lt "$share" ]; do
    round=$((round + 1))
    ff invoke wordcount --repeat 10 >/dev/null 2>>"$work/errors.detail" || fail "wordcount round $round failed"
    made=$((made + 10))
    for wf in "${v1_flows[@]}"; do
      ff invoke "$wf" --repeat 3 >/dev/null 2>>"$work/errors.detail" || fail "$wf round $round failed"
      made=$((made + 3))
    done
    id=soak-$c-$round
    if ff invoke wordcount --async --request-id "$id" >/dev/null 2>>"$work/errors.detail"; then
      out=$(ff status --wait 60s "$id" 2>&1) || true
      grep -q '"status": "succeeded"' <<<"$out" || fail "async $id did not succeed: $(tr -s ' \n' ' ' <<<"$out" | cut -c1-200)"
    else
      fail "async invoke $id refused"
    fi
    made=$((made + 1))
    # faults-fail must fail, and say why.
    if out=$(ff invoke faults-fail 2>&1); then
      fail "faults-fail succeeded"
    elif ! grep -q "deliberate failure" <<<"$out"; then
      fail "faults-fail failed without the function's message: $out"
    fi
    made=$((made + 1))
    record
  done
  record
}

# sample: one CSV line per process: elapsed,process,pid,rss_kb,goroutines,open_files
auth=()
sample() {
  local now=$1 name pid url rss gor fds
  if [ -f "$FAASFLOW_HOME/token" ]; then
    auth=(-H "Authorization: Bearer $(cat "$FAASFLOW_HOME/token")")
  fi
  while read -r name pid url; do
    if [ ! -d "/proc/$pid" ]; then
      echo "$now,$name,$pid,gone,gone,gone"
      continue
    fi
    rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status")
    fds=$(ls "/proc/$pid/fd" | wc -l)
    gor=$(curl -sf --max-time 10 "${auth[@]}" "$url/metrics" | awk '$1 == "go_goroutines" {print $2}') || true
    echo "$now,$name,$pid,$rss,${gor:-na},$fds"
  done <<<"$procs"
}

echo "elapsed_s,process,pid,rss_kb,goroutines,open_files" >"$CSV"
print_row() { # CSV line → table row
  awk -F, '{ printf "%9s  %-10s %8s %12s %11s %11s\n", $1, $2, $3, $4, $5, $6 }' <<<"$1"
}
echo "==> load for $DURATION ($CLIENTS clients, at most $MAX_INVOCATIONS invocations), sample every ${INTERVAL}s, warm-up ${warmup_s}s"
printf '%9s  %-10s %8s %12s %11s %11s\n' elapsed_s process pid rss_kb goroutines open_files

for c in $(seq 1 "$CLIENTS"); do
  load "$c" &
  children+=($!)
done

status=0
next=$start
while :; do
  now=$(date +%s)
  if [ "$now" -ge "$next" ]; then
    while read -r line; do
      echo "$line" >>"$CSV"
      print_row "$line"
      case $line in *gone*) echo "soak: a process is gone: $line" >&2; status=1 ;; esac
    done < <(sample $((now - start)))
    next=$((next + INTERVAL))
    [ "$status" -eq 0 ] || break
  fi
  running=0
  for pid in "${children[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then running=1; fi
  done
  if [ "$running" -eq 0 ]; then
    break
  fi
  sleep 1
done
for pid in "${children[@]}"; do
  wait "$pid" || status=1
done
children=()
# A last sample once the load has stopped, unless the loop just took one.
if [ "$status" -eq 0 ] && [ "$(tail -n 1 "$CSV" | cut -d, -f1)" != "$(($(date +%s) - start))" ]; then
  while read -r line; do
    echo "$line" >>"$CSV"
    print_row "$line"
  done < <(sample $(($(date +%s) - start)))
fi

made=0 bad=0
for c in $(seq 1 "$CLIENTS"); do
  eval "$(cat "$work/load-$c")" 2>/dev/null || true
  made_total=$((${made_total:-0} + made)) bad_total=$((${bad_total:-0} + bad))
done
elapsed=$(($(date +%s) - start))
echo "==> load: $made_total invocations in ${elapsed}s, $bad_total unexpected outcomes"
if [ "$bad_total" -gt 0 ]; then
  sort "$work/errors" | uniq -c | sort -rn | head -n 10 >&2
  tail -n 5 "$work/errors.detail" >&2 || true
  status=1
fi

# Verdict: per process, the first sample at or after the warm-up against the last.
verdict=$(awk -F, -v warm="$warmup_s" -v rmax="$RSS_MAX_GROWTH" -v slack="$GROWTH_SLACK" '
  NR == 1 { next }
  $4 == "gone" { next }
  $1 >= warm && !($2 in first) { first[$2] = $0; order[++n] = $2 }
  { last[$2] = $0 }
  function pct(a, b) { return a > 0 ? (b - a) * 100 / a : 0 }
  END {
    bad = 0
    if (n == 0) { print "no sample after the warm-up: run longer than WARMUP"; exit 3 }
    for (i = 1; i <= n; i++) {
      p = order[i]; split(first[p], f, ","); split(last[p], l, ",")
      line = sprintf("%s: rss %d→%d kB (%+.1f%%), goroutines %s→%s, open files %d→%d (from %ss to %ss)",
        p, f[4], l[4], pct(f[4], l[4]), f[5], l[5], f[6], l[6], f[1], l[1])
      if (pct(f[4], l[4]) > rmax) { bad = 1; line = line " RSS GREW" }
      if (f[5] != "na" && l[5] > 1.5 * f[5] + slack) { bad = 1; line = line " GOROUTINES GREW" }
      if (l[6] > 1.5 * f[6] + slack) { bad = 1; line = line " OPEN FILES GREW" }
      print line
    }
    exit bad ? 2 : 0
  }' "$CSV") || vrc=$?
echo "$verdict"
case ${vrc:-0} in
  0) echo "verdict: PASS — no growth past the bounds between ${warmup_s}s and the end (CSV $CSV)" ;;
  2) echo "verdict: FAIL — growth past the bounds (RSS > ${RSS_MAX_GROWTH}%, or > 1.5× + ${GROWTH_SLACK}) (CSV $CSV)"
     [ "$status" -ne 0 ] || status=2 ;;
  *) echo "verdict: NONE — too few samples (CSV $CSV)"; status=1 ;;
esac
if [ "$status" -eq 1 ]; then
  echo "verdict: ERRORS — see above"
fi
exit "$status"
