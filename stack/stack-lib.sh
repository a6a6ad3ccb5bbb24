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
# The optional three-node Kafka cluster (stack/servers/kafka-cluster.sh): node i on base+i-1.
export KAFKA_CLUSTER_PORT="${KAFKA_CLUSTER_PORT:-19092}" KAFKA_CLUSTER_CONTROLLER_PORT="${KAFKA_CLUSTER_CONTROLLER_PORT:-19192}"
export KAFKA_CLUSTER_HEAP="${KAFKA_CLUSTER_HEAP:-384m}"
# FerretDB's own metrics/debug HTTP listener.
export FERRETDB_DEBUG_PORT="${FERRETDB_DEBUG_PORT:-8088}"
# Apicurio's (Quarkus) management interface: health and metrics.
export REGISTRY_MANAGEMENT_PORT="${REGISTRY_MANAGEMENT_PORT:-9000}"

# The schema registry's storage (stack/servers/registry.sh): `sql` in its own database of the stack's
# MariaDB (or any MySQL: point REGISTRY_DB_HOST/PORT at it), or `mem` (empty after every restart).
export REGISTRY_STORAGE="${REGISTRY_STORAGE:-sql}" REGISTRY_DB_HOST="${REGISTRY_DB_HOST:-127.0.0.1}"
export REGISTRY_DB_PORT="${REGISTRY_DB_PORT:-$MYSQL_PORT}" REGISTRY_DB_NAME="${REGISTRY_DB_NAME:-apicurio}"
export REGISTRY_DB_USER="${REGISTRY_DB_USER:-apicurio}" REGISTRY_DB_PASSWORD="${REGISTRY_DB_PASSWORD:-apicurio}"

# The servers start in parallel. One dependency: the registry (SQL storage) waits for its database,
# which MariaDB's post-start step creates (registry_pre_start). `down` and `reset` go in reverse
# order, so the registry stops before its database does.
ALL_SERVERS=(mariadb redis kafka registry ferretdb opensearch)

for f in "$REPO_ROOT"/stack/servers/*.sh; do
  # shellcheck source=/dev/null
  source "$f"
done

