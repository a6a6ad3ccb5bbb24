#!/usr/bin/env bash
# Three Apache Kafka KRaft nodes (broker+controller each, a static 3-voter quorum) on loopback:
# replication factor 3, min.insync.replicas 2, no unclean leader election — production's settings
# (docs/operations.md), for tests that kill brokers. Not started by a bare `stack/stack up`; start them
# with `stack/stack up kafka-cluster` (= kafka1 kafka2 kafka3, each its own server with pid, log, data).
# Ports: node i (1..3) listens on KAFKA_CLUSTER_PORT+i-1 (19092..19094) and its controller on
# KAFKA_CLUSTER_CONTROLLER_PORT+i-1 (19192..19194). Heap per node: KAFKA_CLUSTER_HEAP (384m).
KAFKA_CLUSTER_NODES=(kafka1 kafka2 kafka3)
KAFKA1_TIMEOUT="${KAFKA1_TIMEOUT:-120}" KAFKA2_TIMEOUT="${KAFKA2_TIMEOUT:-120}" KAFKA3_TIMEOUT="${KAFKA3_TIMEOUT:-120}"

kafka_node_port() { echo $(( KAFKA_CLUSTER_PORT + $1 - 1 )); }
kafka_node_controller_port() { echo $(( KAFKA_CLUSTER_CONTROLLER_PORT + $1 - 1 )); }

# The bootstrap list clients use (KAFKA_BROKERS).
kafka_cluster_brokers() {
  local i out=(); for i in 1 2 3; do out+=("127.0.0.1:$(kafka_node_port "$i")"); done
  local IFS=,; echo "${out[*]}"
}

kafka_node_run() {
  local n="$1" dir="$STACK_DIR/data/kafka$1" libs voters="" i; libs="$(kafka_libs)"
  for i in 1 2 3; do voters+="${voters:+,}$i@127.0.0.1:$(kafka_node_controller_port "$i")"; done
  mkdir -p "$dir/logs"
  sed -e "s#@NODE_ID@#$n#g" -e "s#@VOTERS@#$voters#g" -e "s#@KAFKA_PORT@#$(kafka_node_port "$n")#g" \
      -e "s#@KAFKA_CONTROLLER_PORT@#$(kafka_node_controller_port "$n")#g" -e "s#@LOG_DIR@#$dir/logs#g" \
      "$REPO_ROOT/stack/kafka/cluster.properties.template" >"$dir/server.properties"
  local jvm=(-Xms"$KAFKA_CLUSTER_HEAP" -Xmx"$KAFKA_CLUSTER_HEAP" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true
             "-Dlog4j2.configurationFile=$REPO_ROOT/stack/kafka/log4j2.properties" "-Dkafka.logs.dir=$STACK_DIR/logs")
  if [[ ! -f "$dir/logs/meta.properties" ]]; then
    # One cluster id for the three nodes, which start in parallel: a node formats under a lock with the
    # id of a peer already formatted (one whose data was reset rejoins), else the cluster's id file,
    # else a new one.
    local idf="$STACK_DIR/data/kafka-cluster.id"
    ( flock 9
      peer="$(cat "$STACK_DIR"/data/kafka[123]/logs/meta.properties 2>/dev/null | sed -n 's/^cluster.id=//p' | head -n1)"
      if [[ -n "$peer" ]]; then echo "$peer" >"$idf"
      elif [[ ! -s "$idf" ]]; then java -cp "$libs/*" "${jvm[@]}" kafka.tools.StorageTool random-uuid | tail -n1 >"$idf"; fi
      java -cp "$libs/*" "${jvm[@]}" kafka.tools.StorageTool format -t "$(cat "$idf")" -c "$dir/server.properties" --ignore-formatted
    ) 9>"$idf.lock"
  fi
  exec java -cp "$libs/*" "${jvm[@]}" kafka.Kafka "$dir/server.properties"
}

for _n in 1 2 3; do
  eval "kafka${_n}_install() { kafka_install; }
        kafka${_n}_run() { kafka_node_run ${_n}; }
        kafka${_n}_health() { kafka_log_started \"\$(kafka_node_port ${_n})\" \"\$STACK_DIR/logs/kafka${_n}.log\"; }"
done
unset _n
