#!/usr/bin/env bash
# Apicurio Registry 3.x (Confluent-compatible API at /apis/ccompat/v7) from its Maven Central tarball.
# Storage (REGISTRY_STORAGE): `sql` (default) keeps schemas, versions, ids and settings in a MySQL
# database — the stack's MariaDB, database and user `apicurio`, created by mariadb_post_start — so a
# restart gives back every id ever handed out; `mem` is Apicurio's in-memory H2, empty after each start
# (what the fault scenario of a registry restarted empty runs). The tarball ships the MySQL driver
# (mysql-connector-j, Quarkus' jdbc-mysql extension built in), so nothing more is fetched.
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

registry_jdbc_url() { echo "jdbc:mysql://$REGISTRY_DB_HOST:$REGISTRY_DB_PORT/$REGISTRY_DB_NAME"; }

# The registry's database as its own user sees it (the MySQL protocol client; a password in MYSQL_PWD,
# never on the command line).
registry_sql() {
  local cli; cli="$(command -v mariadb || command -v mysql)" || return 127
  MYSQL_PWD="$REGISTRY_DB_PASSWORD" "$cli" --no-defaults --protocol=TCP -h "$REGISTRY_DB_HOST" -P "$REGISTRY_DB_PORT" \
    -u "$REGISTRY_DB_USER" --connect-timeout=2 "$@"
}

# Runs before the JVM starts: with SQL storage, wait until the database answers for the registry's
# user. `stack up` starts MariaDB beside the registry, and its post-start step creates that database
# and user 1–5 s in; waiting here starts the JVM once its storage exists, and a database that never
# comes is named in one line instead of a Java stack trace.
registry_pre_start() {
  case "$REGISTRY_STORAGE" in
    sql) ;; mem) return 0 ;;
    *) echo "stack: registry: REGISTRY_STORAGE must be sql or mem, not '$REGISTRY_STORAGE'" >&2; return 1 ;;
  esac
  command -v mariadb >/dev/null 2>&1 || command -v mysql >/dev/null 2>&1 || return 0 # Apicurio retries by itself
  local t0 timeout="${REGISTRY_DB_TIMEOUT:-90}"; t0=$(date +%s)
  until registry_sql "$REGISTRY_DB_NAME" -e 'SELECT 1' >/dev/null 2>&1; do
    if (( $(date +%s) - t0 >= timeout )); then
      echo "stack: registry: its database $REGISTRY_DB_NAME on $REGISTRY_DB_HOST:$REGISTRY_DB_PORT did not answer for user $REGISTRY_DB_USER within ${timeout}s: $(registry_sql "$REGISTRY_DB_NAME" -e 'SELECT 1' 2>&1 | tail -n1). 'stack/stack up mariadb' starts MariaDB and creates it; for another MySQL see docs/operations.md" >&2
      return 1
    fi
    sleep 0.5
  done
}

# Quarkus' management interface (health, metrics) is built in and would listen on *:9000, every
# interface; the stack keeps it on loopback, on its own configurable port.
registry_run() {
  local jar jhome; jar="$(cat "$(registry_home)/.complete")"; jhome="$(java21_home)"
  if [[ "$REGISTRY_STORAGE" == sql ]]; then
    # The same variables docker-compose.yml gives the registry's container (tests/compose checks it).
    export APICURIO_STORAGE_KIND=sql APICURIO_STORAGE_SQL_KIND=mysql APICURIO_DATASOURCE_URL="$(registry_jdbc_url)"
    export APICURIO_DATASOURCE_USERNAME="$REGISTRY_DB_USER" APICURIO_DATASOURCE_PASSWORD="$REGISTRY_DB_PASSWORD"
    # 2–10 connections instead of Apicurio's 20–100: one registry of a few dozen schemas, on a
    # MariaDB that the test suites also fill with connections.
    export APICURIO_DATASOURCE_JDBC_INITIAL_SIZE=2 APICURIO_DATASOURCE_JDBC_MIN_SIZE=2 APICURIO_DATASOURCE_JDBC_MAX_SIZE=10
  fi # mem: Apicurio's default, H2 in memory
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
# config and refuses to register when it differs from the level it asks for. Kept in the database
# with SQL storage; set again on every `up` anyway (idempotent).
registry_post_start() {
  curl -sf --max-time 5 -X PUT -H 'Content-Type: application/vnd.schemaregistry.v1+json' \
    -d '{"compatibility":"BACKWARD"}' "http://127.0.0.1:$REGISTRY_PORT/apis/ccompat/v7/config" >/dev/null ||
    { echo "stack: registry: could not set the global compatibility to BACKWARD" >&2; return 1; }
}

# `stack reset registry`: with SQL storage the data is the database's tables, not a folder: drop and
# create the database (its user may: ALL on it). Skipped when it does not answer (MariaDB reset too).
registry_reset() {
  [[ "$REGISTRY_STORAGE" == sql ]] || return 0
  if registry_sql -e "DROP DATABASE IF EXISTS \`$REGISTRY_DB_NAME\`; CREATE DATABASE \`$REGISTRY_DB_NAME\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci" 2>/dev/null; then
    echo "stack: registry: database $REGISTRY_DB_NAME emptied" >&2
  else
    echo "stack: registry: database $REGISTRY_DB_NAME not reachable, left as it is" >&2
  fi
}
