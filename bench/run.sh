#!/usr/bin/env bash
# Runs every benchmark on the real stack, one after the other (they would compete for the two cores).
#   npm run bench            all benchmarks
#   npm run bench -- --cold  the stack start-up benchmark also measures a cold start (empty caches)
#   npm run bench -- --soak  only the soak run: the whole pipeline for ~10 minutes at half its maximum
#                            (BENCH_SOAK_SECONDS, BENCH_SOAK_WARMUP_SECONDS, BENCH_SOAK_RATE)
set -euo pipefail
cd "$(dirname "$0")/.."
bash stack/stack up
npx tsc -b
# shellcheck source=/dev/null
source stack/stack-lib.sh
KAFKA_LIBS="$(kafka_libs)"
export KAFKA_LIBS
for arg in "$@"; do
  if [ "$arg" = "--soak" ]; then
    echo "### soak: ingest-api, counter, event-logger, history at half their maximum, RSS / lag / freshness per 30 s"
    exec node bench/dist/soak.js
  fi
done
echo "### ingest throughput, latency and memory"
node bench/dist/ingest.js
echo "### stack start-up and memory"
bash bench/stack-start.sh "$@"
echo "### consumers: counter, event-logger, history throughput, freshness and memory"
node bench/dist/consumers.js
echo "### flusher: 100,000 counters Redis → MySQL"
node bench/dist/flusher.js
echo "### es-sync: incremental sync vs a raw _bulk of the same updates"
node bench/dist/es-sync.js
echo "### query-api: GET counts at 2,000 req/s and max vs a bare route"
node bench/dist/query.js
echo "### snapshot-builder: build on 1,000,000 view events (takes ~10 minutes)"
node bench/dist/snapshot.js
echo "### php: tally/laravel Tally::track() per call and the flush a request adds (Tally up, down, breaker open)"
node bench/dist/php-track.js
