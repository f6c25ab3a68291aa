#!/usr/bin/env bash
# Scheduling overhead of two or more builds, measured alternately so that the shared machine's drift hits
# them alike. Each round starts a fresh 3-worker local cluster from each build in turn, runs
# `faasflow experiment overhead` on one v1 workflow (run times x 0.01), then invokes it CPU_N more times and
# reports the CPU the cluster's processes used per invocation (utime + stime from /proc, the CLI excluded).
#
#   scripts/overhead-ab.sh BUILD[@VAR=VALUE] ...
#   scripts/overhead-ab.sh /tmp/old/bin bin bin@GOMAXPROCS=1
#
# BUILD is a directory with faasflow, faasflow-gateway, faasflow-worker and faasflow-synthetic (a `make
# build` bin/); @VAR=VALUE sets an environment variable for that cluster. Environment: ROUNDS (3), N
# invocations per experiment (20), PLACEMENT (round-robin), MODES (dataflow,workersp), CPU_N (30),
# WORKFLOW (cycles.flat_workflow.yaml of the reference data) and NAME (the workflow's, default its file's).
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -gt 0 ] || { sed -n '2,13p' "$0"; exit 2; }
rounds=${ROUNDS:-3}
n=${N:-20}
placement=${PLACEMENT:-round-robin}
modes=${MODES:-dataflow,workersp}
cpu_n=${CPU_N:-30}
workflow=${WORKFLOW:-../shared/reference/faasflow/faasflow-v1/workflows/cycles.flat_workflow.yaml}
file=$(basename "$workflow")
name=${NAME:-${file%%.*}} # v1 workflows are named after their file
export FAASFLOW_HOME=$(mktemp -d)
export FAASFLOW_GATEWAY=
cluster=""
trap '[ -n "$cluster" ] && "$cluster" cluster down >/dev/null 2>&1; rm -rf "$FAASFLOW_HOME"' EXIT

# cpu_ticks prints "kind ticks" for the cluster's processes: gateway, worker, synthetic (function instances).
cpu_ticks() {
	for p in /proc/[0-9]*; do
		exe=$({ tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null | awk '{print $1}') || continue
		case "$exe" in
		*/faasflow-gateway | */faasflow-worker | */faasflow-synthetic)
			awk -v k="${exe##*/faasflow-}" '{print k, $14 + $15}' "$p/stat" 2>/dev/null || true ;;
		esac
	done | awk '{t[$1] += $2} END {for (k in t) print k, t[k]}' | sort
}

hz=$(getconf CLK_TCK)
for r in $(seq "$rounds"); do
	for build in "$@"; do
		dir=${build%%@*}
		env=()
		[ "$build" != "$dir" ] && env=("${build#*@}")
		cluster=$dir/faasflow
		rm -rf "${FAASFLOW_HOME:?}"/*
		env "${env[@]}" "$cluster" cluster up --gateway-port 18700 --worker-port 18701 >/dev/null
		sleep 2
		p50=$("$cluster" experiment overhead "$workflow" -n "$n" --time-scale 0.01 --modes "$modes" --placement "$placement" 2>&1 |
			awk '/overhead p50/ {printf "%s %s ms, ", $2, $5}')
		before=$(cpu_ticks)
		for _ in $(seq "$cpu_n"); do "$cluster" invoke "$name" >/dev/null; done
		cpu=$(join <(echo "$before") <(cpu_ticks) |
			awk -v n="$cpu_n" -v hz="$hz" '{printf "%s %.1f ms ", $1, ($3 - $2) * 1000 / hz / n}')
		echo "round $r $build: ${p50}cpu per invocation (last mode): $cpu"
		"$cluster" cluster down >/dev/null
		cluster=""
	done
done
