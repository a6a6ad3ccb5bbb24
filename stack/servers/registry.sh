#!/usr/bin/env bash
# Apicurio Registry 3.x (Confluent-compatible API at /apis/ccompat/v7) from its Maven Central tarball.
# In-memory storage: schemas are lost on restart, so services re-register at start (idempotently).
REGISTRY_TIMEOUT="${REGISTRY_TIMEOUT:-120}"
APICURIO_VERSION=3.3.3

registry_home() { echo "$CACHE_DIR/apicurio-$APICURIO_VERSION"; }

registry_install() {
  local home; home="$(registry_home)"
  [[ -f "$home/.complete" ]] && return 0
  java21_home >/dev/null || { echo "stack: registry: Apicurio $APICURIO_VERSION needs Java 21+; set JAVA21_HOME to a JDK 21+ (e.g. Temurin 25)" >&2; return 1; }
  need_cmd registry mvn "install Maven (Debian: maven)" || return 1
  echo "stack: registry: fetching Apicurio $APICURIO_VERSION from Maven Central (about 160 MB, once)" >&2
  local dl="$CACHE_DIR/downloads"; mkdir -p "$dl" "$home"
  run_logged registry mvn -B -Dstyle.color=never dependency:copy -Dartifact="io.apicurio:apicurio-registry-app:$APICURIO_VERSION:tar.gz:all" \
    -DoutputDirectory="$dl" || { echo "stack: registry: Maven could not fetch apicurio-registry-app" >&2; return 1; }
  tar -xzf "$dl/apicurio-registry-app-$APICURIO_VERSION-all.tar.gz" -C "$home" --strip-components=0
  local jar; jar="$(find "$home" -name quarkus-run.jar | head -n1)"
  [[ -n "$jar" ]] || { echo "stack: registry: quarkus-run.jar not found in the Apicurio tarball" >&2; return 1; }
  echo "$jar" >"$home/.complete"
}

# Quarkus' management interface (health, metrics) is built in and would listen on *:9000, every
# interface; the stack keeps it on loopback, on its own configurable port.
registry_run() {
  local jar jhome; jar="$(cat "$(registry_home)/.complete")"; jhome="$(java21_home)"
  cd "$(dirname "$jar")"
  exec "$jhome/bin/java" -Xms256m -Xmx512m -XX:+UseG1GC \
    -Dquarkus.http.host=127.0.0.1 -Dquarkus.http.port="$REGISTRY_PORT" \
    -Dquarkus.management.host=127.0.0.1 -Dquarkus.management.port="$REGISTRY_MANAGEMENT_PORT" \
    -Dquarkus.log.console.json=false -Dapicurio.rest.deletion.artifact.enabled=true \
    -Dapicurio.rest.deletion.artifact-version.enabled=true -Dapicurio.rest.deletion.group.enabled=true \
    -jar "$jar"
}

registry_health() { http_ok "http://127.0.0.1:$REGISTRY_PORT/apis/ccompat/v7/subjects"; }

# Global compatibility BACKWARD: @kafkajs/confluent-schema-registry's register() reads the subject's
# config and refuses to register when it differs from the level it asks for.
registry_post_start() {
  curl -sf --max-time 5 -X PUT -H 'Content-Type: application/vnd.schemaregistry.v1+json' \
    -d '{"compatibility":"BACKWARD"}' "http://127.0.0.1:$REGISTRY_PORT/apis/ccompat/v7/config" >/dev/null ||
    { echo "stack: registry: could not set the global compatibility to BACKWARD" >&2; return 1; }
}
