#!/usr/bin/env bash
# Store benchmarks beside their floors: put + get (+ release) of 1 KiB, 1 MiB and 16 MiB values on every tier,
# each next to the bare client doing the same transfer (memcpy for memory, an HTTP GET for direct, go-redis
# SET/GET for Redis, kafka-go produce/consume for Kafka, kivik attachment PUT/GET for CouchDB), run
# alternately in one go test process; prints the median ns/op of each and the store/floor ratio, and for
# Kafka also the median ratio of the paired variant (a store and a floor round trip in every iteration).
# Needs the services: eval "$(scripts/services/all.sh start redis kafka couchdb)".
#
#   scripts/bench-stores.sh [COUNT]     (default 5 runs of each)
set -euo pipefail
cd "$(dirname "$0")/.."
count="${1:-5}"
: "${FAASFLOW_REDIS_ADDR:?start the services first: eval \"\$(scripts/services/all.sh start redis kafka couchdb)\"}"
: "${FAASFLOW_KAFKA_BROKERS:?start the services first}"
: "${FAASFLOW_COUCHDB_URL:?start the services first}"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
go test -run '^$' -bench 'Memory|Direct|Redis|Kafka' -benchtime 1s -count "$count" ./agents/store/ | tee "$out" >&2
go test -run '^$' -bench 'CouchDB' -benchtime 3x -count 3 ./agents/store/ | tee -a "$out" >&2
# Benchmark lines: BenchmarkTier/size/variant-N  iterations  ns/op ...
awk '
  /^Benchmark/ {
    split($1, p, "/"); tier = substr(p[1], 10); size = p[2]; variant = p[3]; sub(/-[0-9]+$/, "", variant)
    val = $3
    if (variant == "paired") for (i = 4; i < NF; i++) if ($(i + 1) == "store/floor") val = $i
    k = tier SUBSEP size SUBSEP variant; n[k]++; v[k, n[k]] = val
    if (!((tier, size) in seen)) { seen[tier, size] = 1; order[++rows] = tier SUBSEP size }
  }
  function median(k,   i, j, t, m) {
    m = n[k]; if (m == 0) return 0
    for (i = 1; i <= m; i++) a[i] = v[k, i]
    for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
    return (m % 2) ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
  }
  END {
    printf "| tier | size | store | floor | store/floor | take | take/floor | paired store/floor |\n"
    printf "| --- | --- | --- | --- | --- | --- | --- | --- |\n"
    for (r = 1; r <= rows; r++) {
      split(order[r], q, SUBSEP); s = median(q[1] SUBSEP q[2] SUBSEP "store"); f = median(q[1] SUBSEP q[2] SUBSEP "floor")
      t = median(q[1] SUBSEP q[2] SUBSEP "take"); pr = median(q[1] SUBSEP q[2] SUBSEP "paired")
      printf "| %s | %s | %.3g ms | %.3g ms | %.2f× | %s | %s | %s |\n", q[1], q[2], s / 1e6, f / 1e6, s / f, \
        (t ? sprintf("%.3g ms", t / 1e6) : ""), (t ? sprintf("%.2f×", t / f) : ""), (pr ? sprintf("%.2f×", pr) : "")
    }
  }' "$out"
