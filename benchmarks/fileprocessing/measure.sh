#!/bin/sh
# Measures fileprocessing on a running cluster: N sequential invocations
# with the given input (after one warm-up invocation, not counted), then
# prints a Markdown table of each function's run time and of the end-to-end
# latency (mean, p50, min and max, in seconds), from the run records.
#
#   benchmarks/fileprocessing/measure.sh N INPUT_JSON
#   benchmarks/fileprocessing/measure.sh 20 '{"seed": 1}'
#   benchmarks/fileprocessing/measure.sh 3 '{"seed": 1, "size": "v1"}'
#
# FAASFLOW (default: bin/faasflow) is the CLI; FAASFLOW_HOME and
# FAASFLOW_GATEWAY choose the cluster as for the CLI.
set -eu
n=${1:?usage: measure.sh N INPUT_JSON}
input=${2:?usage: measure.sh N INPUT_JSON}
ff=${FAASFLOW:-bin/faasflow}
tag=fp-$(date +%s)-$$
"$ff" invoke fileprocessing --input "$input" --request-id "$tag-warm" >/dev/null
out=$(mktemp)
trap 'rm -f "$out"' EXIT
i=1
while [ "$i" -le "$n" ]; do
	id=$tag-$i
	"$ff" invoke fileprocessing --input "$input" --request-id "$id" >/dev/null
	"$ff" status "$id" | awk -v id="$id" '/"latency":/ { gsub(/[",]/, ""); print "e2e", $2 * 1000 }' >>"$out"
	"$ff" logs "$id" | awk 'NR > 1 && $8 == "ok" { print $1, $5 }' >>"$out"
	i=$((i + 1))
done
echo "| step | mean (s) | p50 (s) | min (s) | max (s) |"
echo "|---|---|---|---|---|"
for step in start conversion sentiment upload e2e; do
	awk -v s="$step" '$1 == s { print $2 / 1000 }' "$out" | sort -g | awk -v s="$step" '
		{ v[NR] = $1; sum += $1 }
		END {
			name = (s == "e2e") ? "**end to end**" : s
			printf "| %s | %.3f | %.3f | %.3f | %.3f |\n", name, sum / NR, v[int((NR + 1) / 2)], v[1], v[NR]
		}'
done
