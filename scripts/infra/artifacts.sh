#!/usr/bin/env bash
# What the Ansible roles copy from the control host to the nodes, made once per pin into the cache:
#   kafka-<hash>.tar.gz    Kafka's jars (libs/), pinned by scripts/services/kafka/pom.xml
#   couchdb-<hash>.tar.gz  pouchdb-server's node_modules and this machine's Node.js binary (bin/node),
#                          pinned by scripts/services/couchdb/package*.json
# The archives are reproducible (sorted, zero mtimes, no gzip timestamp), so Ansible's copy of an
# unchanged archive changes nothing. The jars and node_modules come from the same caches as
# scripts/services (fetched with mvn and npm when missing).
#
#   scripts/infra/artifacts.sh     print `export FAASFLOW_KAFKA_ARCHIVE=...` and `export FAASFLOW_COUCHDB_ARCHIVE=...`
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
SERVICES="$ROOT/scripts/services"
CACHE_HOME="${FAASFLOW_CACHE:-$HOME/.cache/faasflow}"
OUT="$CACHE_HOME/artifacts"

say() { printf '[artifacts] %s\n' "$*" >&2; }
die() { printf '[artifacts] error: %s\n' "$*" >&2; exit 1; }
file_hash() { cat "$@" | sha256sum | cut -c1-16; }

# pack DIR ARCHIVE ENTRY...: a reproducible .tar.gz of the entries of DIR.
pack() {
  local dir="$1" archive="$2"; shift 2
  tar -C "$dir" --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -cf - "$@" | gzip -6n >"$archive.tmp"
  mv "$archive.tmp" "$archive"
}

kafka_archive() {
  local h; h="$(file_hash "$SERVICES/kafka/pom.xml")"
  local libs="$CACHE_HOME/kafka/$h/libs" archive="$OUT/kafka-$h.tar.gz"
  [ -f "$archive" ] && { echo "$archive"; return; }
  if [ ! -d "$libs" ] || [ -z "$(ls "$libs"/*.jar 2>/dev/null)" ]; then
    command -v mvn >/dev/null || die "mvn is needed to fetch Kafka's jars (apt-get install maven)"
    say "fetching Kafka's jars into $libs"
    mkdir -p "$libs"
    mvn -q -B -f "$SERVICES/kafka/pom.xml" -Dmaven.repo.local="$CACHE_HOME/kafka/m2" \
      dependency:copy-dependencies -DoutputDirectory="$libs" >&2 || die "mvn dependency:copy-dependencies failed"
  fi
  say "packing $(find "$libs" -name '*.jar' | wc -l) Kafka jars into $archive"
  pack "$(dirname "$libs")" "$archive" libs
  echo "$archive"
}

couchdb_archive() {
  local h; h="$(file_hash "$SERVICES/couchdb/package.json" "$SERVICES/couchdb/package-lock.json")"
  local app="$CACHE_HOME/couchdb/$h" node
  node="$(command -v node)" || die "node is needed (its binary goes to the storage node)"
  local nh; nh="$(sha256sum "$node" | cut -c1-8)"
  local archive="$OUT/couchdb-$h-$nh.tar.gz"
  [ -f "$archive" ] && { echo "$archive"; return; }
  if [ ! -x "$app/node_modules/pouchdb-server/bin/pouchdb-server" ]; then
    say "installing pouchdb-server into $app (npm ci)"
    mkdir -p "$app"
    cp "$SERVICES/couchdb/package.json" "$SERVICES/couchdb/package-lock.json" "$app/"
    (cd "$app" && npm ci --no-audit --no-fund >&2) || die "npm ci failed"
  fi
  local stage; stage="$(mktemp -d)"
  mkdir -p "$stage/bin"
  cp "$node" "$stage/bin/node"
  ln -s "$app/node_modules" "$stage/node_modules"
  say "packing pouchdb-server and $(node --version) into $archive"
  tar -C "$stage" --dereference --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -cf - bin node_modules \
    | gzip -6n >"$archive.tmp"
  mv "$archive.tmp" "$archive"
  rm -rf "$stage"
  echo "$archive"
}

mkdir -p "$OUT"
echo "export FAASFLOW_KAFKA_ARCHIVE=$(kafka_archive)"
echo "export FAASFLOW_COUCHDB_ARCHIVE=$(couchdb_archive)"
