#!/usr/bin/env bash
# Apache Kafka for integration tests: a real broker in KRaft single-node mode (one process is broker
# and controller), on Java 17. Its jars are pinned by the committed scripts/services/kafka/pom.xml and
# fetched with `mvn dependency:copy-dependencies` into $FAASFLOW_CACHE/kafka/<pom hash>/libs.
# Every start formats a fresh log directory, so a started broker holds no topics of an earlier run.
#
#   scripts/services/kafka.sh start|stop|env
#
# Ports: FAASFLOW_KAFKA_PORT (default 9092, clients), FAASFLOW_KAFKA_CONTROLLER_PORT (default 9093),
# both on 127.0.0.1 only. Heap: FAASFLOW_KAFKA_HEAP (default 512m).
set -euo pipefail
SERVICE=kafka
# shellcheck source=scripts/services/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PORT="${FAASFLOW_KAFKA_PORT:-9092}"
CPORT="${FAASFLOW_KAFKA_CONTROLLER_PORT:-9093}"
check_port_number FAASFLOW_KAFKA_PORT "$PORT"
check_port_number FAASFLOW_KAFKA_CONTROLLER_PORT "$CPORT"
HEAP="${FAASFLOW_KAFKA_HEAP:-512m}"
STATE="$SERVICES_HOME/kafka"
PIDFILE="$STATE/kafka.pid"
LOG="$STATE/kafka.log"
CONF="$STATE/server.properties"
PIN="$SERVICES_SRC/kafka"
LIBS="$CACHE_HOME/kafka/$(file_hash "$PIN/pom.xml")/libs"
M2="$CACHE_HOME/kafka/m2"
BROKERS="127.0.0.1:$PORT"
MATCH="$CONF"
READY_TIMEOUT="${FAASFLOW_KAFKA_READY_TIMEOUT:-90}"
JAVA=""

do_env() {
  echo "export FAASFLOW_KAFKA_BROKERS=$BROKERS"
}

# java_major BIN: the major version of a java binary (17 for "17.0.15").
java_major() {
  "$1" -version 2>&1 | sed -nE '1s/.*version "([0-9]+)(\.[0-9]+)*.*".*/\1/p'
}

# find_java: Java 17 (Debian's openjdk-17), installing it when missing; FAASFLOW_JAVA overrides.
find_java() {
  if [ -n "${FAASFLOW_JAVA:-}" ]; then
    JAVA="$FAASFLOW_JAVA"
    [ -x "$JAVA" ] || die "FAASFLOW_JAVA=$JAVA is not an executable"
    return 0
  fi
  local j
  for j in /usr/lib/jvm/java-17-openjdk-*/bin/java; do
    [ -x "$j" ] && { JAVA="$j"; return 0; }
  done
  if command -v java >/dev/null && [ "$(java_major "$(command -v java)")" = 17 ]; then
    JAVA="$(command -v java)"
    return 0
  fi
  apt_install openjdk-17-jre-headless
  for j in /usr/lib/jvm/java-17-openjdk-*/bin/java; do
    [ -x "$j" ] && { JAVA="$j"; return 0; }
  done
  die "Java 17 not found after installing openjdk-17-jre-headless"
}

# install: the Kafka jars, once per pom.xml content.
install() {
  if [ -f "$LIBS/.complete" ]; then
    return 0
  fi
  command -v mvn >/dev/null || apt_install maven
  local t0; t0=$(now_ms)
  say "fetching the Kafka jars pinned by $PIN/pom.xml into $LIBS (mvn dependency:copy-dependencies)"
  rm -rf "$LIBS"
  mkdir -p "$LIBS" "$M2"
  local mlog="$CACHE_HOME/kafka/mvn.log"
  if ! JAVA_HOME="$(dirname "$(dirname "$(readlink -f "$JAVA")")")" mvn -B -q -f "$PIN/pom.xml" \
      -Dmaven.repo.local="$M2" dependency:copy-dependencies \
      -DincludeScope=runtime -DoutputDirectory="$LIBS" >"$mlog" 2>&1; then
    show_log "$mlog"
    die "mvn dependency:copy-dependencies failed; see $mlog"
  fi
  ls "$LIBS"/kafka_2.13-*.jar >/dev/null 2>&1 || die "the Kafka jar is missing from $LIBS after mvn"
  touch "$LIBS/.complete"
  say "fetched $(find "$LIBS" -name '*.jar' | wc -l) jars in $(elapsed "$t0")"
}

# kjava ARGS...: run a class from the Kafka jars with a small heap and quiet logging (for the tools),
# for at most 45 s.
kjava() {
  timeout 45 "$JAVA" -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
    -Dlog4j2.configurationFile="$PIN/log4j2.properties" -Dfaasflow.kafka.loglevel=WARN \
    -cp "$LIBS/*" "$@"
}

write_config() {
  cat >"$CONF" <<EOF
# written by scripts/services/kafka.sh; rewritten on every start
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$CPORT
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CPORT
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$STATE/data
num.partitions=1
default.replication.factor=1
auto.create.topics.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
log.retention.hours=1
EOF
}

# round_trip: create a topic, produce one message and consume it back with the Kafka CLI classes.
# The tools' own messages go to $STATE/roundtrip.log.
round_trip() {
  local stamp; stamp="$(date +%s%N)"
  local topic="faasflow-ready-$stamp" msg="ready-$$-$stamp" got rlog="$STATE/roundtrip.log"
  : >"$rlog"
  kjava org.apache.kafka.tools.TopicCommand --bootstrap-server "$BROKERS" --create --if-not-exists \
    --topic "$topic" --partitions 1 --replication-factor 1 >>"$rlog" 2>&1 || return 1
  printf '%s\n' "$msg" | kjava org.apache.kafka.tools.ConsoleProducer --bootstrap-server "$BROKERS" \
    --topic "$topic" >>"$rlog" 2>&1 || return 1
  got="$(kjava org.apache.kafka.tools.consumer.ConsoleConsumer --bootstrap-server "$BROKERS" \
    --topic "$topic" --from-beginning --max-messages 1 --timeout-ms 30000 2>>"$rlog")" || return 1
  [ "$got" = "$msg" ] || { echo "consumed '$got', expected '$msg'" >>"$rlog"; return 1; }
}

do_start() {
  local t0; t0=$(now_ms)
  if pid_alive "$PIDFILE" "$MATCH"; then
    say "already running (pid $(read_pid "$PIDFILE")) on $BROKERS"
    do_env
    return 0
  fi
  rm -f "$PIDFILE"
  find_java
  install
  check_port "Kafka" "$PORT"
  check_port "Kafka controller" "$CPORT"
  mkdir -p "$STATE"
  rm -rf "$STATE/data"
  write_config
  local cluster_id
  cluster_id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"
  if ! kjava kafka.tools.StorageTool format --cluster-id="$cluster_id" --config "$CONF" \
      >"$STATE/format.log" 2>&1; then
    show_log "$STATE/format.log"
    die "formatting the KRaft log directory failed"
  fi
  : >"$LOG"
  (exec setsid "$JAVA" -Xms"$HEAP" -Xmx"$HEAP" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
      -Djava.awt.headless=true -Dlog4j2.configurationFile="$PIN/log4j2.properties" \
      -Dfaasflow.kafka.loglevel=INFO -cp "$LIBS/*" kafka.Kafka "$CONF" </dev/null >>"$LOG" 2>&1 9>&-) &
  echo $! >"$PIDFILE"
  say "started pid $(read_pid "$PIDFILE"); waiting for $BROKERS (up to ${READY_TIMEOUT}s)"
  local deadline=$(( $(date +%s) + READY_TIMEOUT ))
  until port_busy "$PORT"; do
    if ! pid_alive "$PIDFILE" "$MATCH"; then
      show_log "$LOG"; rm -f "$PIDFILE"; die "the broker exited during start"
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
      show_log "$LOG"; do_stop; die "not listening within ${READY_TIMEOUT}s"
    fi
    sleep 0.2
  done
  until round_trip; do
    if ! pid_alive "$PIDFILE" "$MATCH"; then
      show_log "$LOG"; rm -f "$PIDFILE"; die "the broker exited during start"
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
      show_log "$LOG"; show_log "$STATE/roundtrip.log"; do_stop; die "round trip (create topic, produce, consume) failed within ${READY_TIMEOUT}s"
    fi
    say "round trip not yet working; retrying"
    sleep 1
  done
  say "ready on $BROKERS (round trip ok) in $(elapsed "$t0")"
  do_env
}

do_stop() {
  stop_pid "$PIDFILE" "$MATCH" 40
}

run_action "${1:-}"
