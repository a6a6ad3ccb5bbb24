#!/usr/bin/env bash
# Apache Kafka 4.x, one KRaft broker+controller, from Maven Central jars (stack/kafka/pom.xml).
KAFKA_TIMEOUT="${KAFKA_TIMEOUT:-90}"

kafka_libs() { echo "$CACHE_DIR/kafka-$(files_hash "$REPO_ROOT/stack/kafka/pom.xml")/libs"; }

kafka_install() {
  local libs; libs="$(kafka_libs)"
  [[ -f "$libs/.complete" ]] && return 0
  need_cmd kafka java "install a JDK 17+ (Debian: openjdk-17-jre-headless)" || return 1
  need_cmd kafka mvn "install Maven (Debian: maven)" || return 1
  echo "stack: kafka: collecting broker jars from Maven Central into $libs" >&2
  run_logged kafka mvn -B -Dstyle.color=never -f "$REPO_ROOT/stack/kafka/pom.xml" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$libs" || { echo "stack: kafka: Maven could not fetch the broker jars" >&2; return 1; }
  touch "$libs/.complete"
}

kafka_run() {
  local dir="$STACK_DIR/data/kafka" libs; libs="$(kafka_libs)"
  mkdir -p "$dir/logs"
  sed -e "s#@KAFKA_PORT@#$KAFKA_PORT#g" -e "s#@KAFKA_CONTROLLER_PORT@#$KAFKA_CONTROLLER_PORT#g" \
      -e "s#@LOG_DIR@#$dir/logs#g" "$REPO_ROOT/stack/kafka/server.properties.template" >"$dir/server.properties"
  local jvm=(-Xms512m -Xmx512m -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true
             "-Dlog4j2.configurationFile=$REPO_ROOT/stack/kafka/log4j2.properties" "-Dkafka.logs.dir=$STACK_DIR/logs")
  if [[ ! -f "$dir/logs/meta.properties" ]]; then
    local id; id="$(java -cp "$libs/*" "${jvm[@]}" kafka.tools.StorageTool random-uuid | tail -n1)"
    java -cp "$libs/*" "${jvm[@]}" kafka.tools.StorageTool format --standalone -t "$id" \
      -c "$dir/server.properties" --ignore-formatted
  fi
  exec java -cp "$libs/*" "${jvm[@]}" kafka.Kafka "$dir/server.properties"
}

# Healthy = the broker answers the Kafka protocol (metadata), not just an open port.
kafka_health() { kafka_log_started "$KAFKA_PORT" "$STACK_DIR/logs/kafka.log"; }

# The port is open and the log's last start ended in "Kafka Server started" (shared with kafka-cluster.sh).
kafka_log_started() {
  port_in_use "$1" || return 1
  grep -q "Kafka Server started" "$2" 2>/dev/null &&
    [[ "$(tac "$2" | grep -m1 -E '=== .* starting kafka|Kafka Server started')" == *"Kafka Server started"* ]]
}
