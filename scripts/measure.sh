#!/bin/sh
# Per-function run times and end-to-end latency of a deployed workflow on a running cluster: one warm-up
# invocation (not counted), then N sequential ones with the given input; prints a Markdown table (mean, p50,
# min, max in seconds) from the run records. Functions that run once per item count every item.
#
#   scripts/measure.sh WORKFLOW N [INPUT_JSON]
#   scripts/measure.sh fileprocessing 20 '{"seed": 1}'
#
# FAASFLOW (default bin/faasflow) is the CLI; FAASFLOW_HOME and FAASFLOW_GATEWAY choose the cluster as for it.
set -eu
usage="usage: measure.sh WORKFLOW N [INPUT_JSON]"
wf=${1:?$usage}
n=${2:?$usage}
input=${3:-{\}}
ff=${FAASFLOW:-bin/faasflow}
tag=measure-$(date +%s)-$$
"$ff" invoke "$wf" --input "$input" --request-id "$tag-warm" >/dev/null
out=$(mktemp)
trap 'rm -f "$out"' EXIT
i=1
while [ "$i" -le "$n" ]; do
	id=$tag-$i
	"$ff" invoke "$wf" --input "$input" --request-id "$id" >/dev/null
	"$ff" status "$id" | awk '/"latency":/ { gsub(/[",]/, ""); print "(end-to-end)", $2 * 1000 }' >>"$out"
	# FUNCTION WORKER ITEM START(ms) TIME(ms) IN OUT STATUS
	"$ff" logs "$id" | awk 'NR > 1 && $8 == "ok" { print $1, $5 }' >>"$out"
	i=$((i + 1))
done
echo "| function | runs | mean (s) | p50 (s) | min (s) | max (s) |"
echo "|---|---|---|---|---|---|"
awk '{ print $1 }' "$out" | awk '!seen[$0]++' | while read -r step; do
	awk -v s="$step" '$1 == s { print $2 / 1000 }' "$out" | sort -g | awk -v s="$step" '
		{ v[NR] = $1; sum += $1 }
		END { printf "| %s | %d | %.3f | %.3f | %.3f | %.3f |\n", s, NR, sum / NR, v[int((NR + 1) / 2)], v[1], v[NR] }'
done
