#!/usr/bin/env bash
# Shared by stack/stack and the per-server start shells: settings and the server modules.
# Sourcing this file changes nothing on the machine.
REPO_ROOT="${REPO_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
export REPO_ROOT
export STACK_DIR="${STACK_DIR:-$REPO_ROOT/.stack}"
export CACHE_DIR="${CACHE_DIR:-$HOME/.cache/tally}"
export KAFKA_PORT="${KAFKA_PORT:-9092}" KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
export REGISTRY_PORT="${REGISTRY_PORT:-8081}" MYSQL_PORT="${MYSQL_PORT:-3306}" REDIS_PORT="${REDIS_PORT:-6379}"
export MONGO_PORT="${MONGO_PORT:-27017}" OPENSEARCH_PORT="${OPENSEARCH_PORT:-9200}"
export OPENSEARCH_TRANSPORT_PORT="${OPENSEARCH_TRANSPORT_PORT:-9300}"
# FerretDB's own metrics/debug HTTP listener.
export FERRETDB_DEBUG_PORT="${FERRETDB_DEBUG_PORT:-8088}"
# Apicurio's (Quarkus) management interface: health and metrics.
export REGISTRY_MANAGEMENT_PORT="${REGISTRY_MANAGEMENT_PORT:-9000}"

# Start order matters only for humans reading the log; no server depends on another.
ALL_SERVERS=(mariadb redis kafka registry ferretdb opensearch)

for f in "$REPO_ROOT"/stack/servers/*.sh; do
  # shellcheck source=/dev/null
  source "$f"
done

