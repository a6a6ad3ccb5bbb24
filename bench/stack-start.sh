#!/usr/bin/env bash
# Benchmark: how long the local stack takes to start, and how much memory each server holds.
# Runs an isolated stack (its own ports, data folder and, with --cold, its own empty download
# caches), so a developer's running stack is untouched.
#
#   bash bench/stack-start.sh          warm: caches filled; measures a first start on empty data,
#                                      then a restart on existing data
#   bash bench/stack-start.sh --cold   also empties every download cache first (Maven, Go, builds):
#                                      the time a brand-new machine pays once (needs the network)
#
# Target: warm start < 60 s. The floor it is compared with is measured in the same run: the time
# a bare JVM takes to start and exit (five of the six servers are JVMs or wait on one).
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-warm}"
work="$(mktemp -d "${TMPDIR:-/tmp}/tally-bench-stack-XXXX")"
export STACK_DIR="$work/stack"
export KAFKA_PORT=29092 KAFKA_CONTROLLER_PORT=29093 REGISTRY_PORT=28081 MYSQL_PORT=23306 REDIS_PORT=26379
export MONGO_PORT=27117 FERRETDB_DEBUG_PORT=28088 REGISTRY_MANAGEMENT_PORT=29000 OPENSEARCH_PORT=29200 OPENSEARCH_TRANSPORT_PORT=29300
if [[ "$mode" == "--cold" ]]; then
  export CACHE_DIR="$work/cache" GOMODCACHE="$work/gomod" GOCACHE="$work/gocache"
  export MAVEN_OPTS="-Dmaven.repo.local=$work/m2 ${MAVEN_OPTS:-}"
fi
cleanup() { bash stack/stack down >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT

ms() { date +%s%3N; }
t=$(ms); java -version >/dev/null 2>&1; jvm_floor=$(( $(ms) - t ))

run_up() { # prints the CLI's lines; returns elapsed ms in $elapsed
  local t0; t0=$(ms)
  bash stack/stack up 2>"$work/up.log" || { cat "$work/up.log" >&2; exit 1; }
  elapsed=$(( $(ms) - t0 ))
}

report() { # report <label>
  echo "== $1: all six healthy in $(awk "BEGIN{printf \"%.1f\", $elapsed/1000}") s" \
       "(target 60 s: ratio $(awk "BEGIN{printf \"%.2f\", $elapsed/60000}"); bare JVM start ${jvm_floor} ms: ratio $(awk "BEGIN{printf \"%.0f\", $elapsed/$jvm_floor}")x)"
  printf '   %-11s %8s %10s\n' server "ready s" "RSS MiB"
  local s pid secs rss
  for s in mariadb redis kafka registry ferretdb opensearch; do
    pid="$(cat "$STACK_DIR/run/$s.pid")"
    secs="$(sed -n "s/^stack: $s healthy on .* (pid [0-9]*, \([0-9]*\)s)$/\1/p" "$work/up.log" | tail -n1)"
    rss="$(ps -o rss= -p "$pid" | awk '{printf "%.0f", $1/1024}')"
    printf '   %-11s %8s %10s\n' "$s" "${secs:-?}" "$rss"
  done
}

if [[ "$mode" == "--cold" ]]; then
  run_up; report "cold (empty caches: downloads and builds)"
  bash stack/stack down >/dev/null 2>&1
  rm -rf "$STACK_DIR"
fi
run_up; report "warm (caches filled, empty data)"
bash stack/stack down >/dev/null 2>&1
run_up; report "restart (caches filled, existing data)"
