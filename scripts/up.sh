#!/usr/bin/env bash
# Quick start, command 1: everything Tally needs, from a fresh clone to a running system.
# Idempotent: run it again and it only starts what is not running.
set -euo pipefail
cd "$(dirname "$0")/.."
t0=$(date +%s)
bash scripts/preflight.sh
echo "tally: installing npm packages" >&2
# npm ci when the lock matches (reproducible); a dev tree that is already installed is left alone.
if [[ ! -d node_modules/.bin || package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
bash stack/stack up
bash scripts/install-test-tools.sh
echo "tally: building TypeScript" >&2
npx tsc -b
tally() { node packages/cli/dist/bin.js "$@"; }
echo "tally: migrations, topics and schemas" >&2
tally migrate
tally setup >/dev/null
# Demo data once per stack: seeding again would reset the catalog the pipeline has been counting.
if [[ ! -f "${STACK_DIR:-.stack}/run/demo-seeded" ]]; then
  tally seed --movies 2000 --actors 300 --tags 80 --users 200
  touch "${STACK_DIR:-.stack}/run/demo-seeded"
fi
# The Elasticsearch indices (jav, actors, tags, with mappings) from the catalog, only where none exist
# (a fresh stack, or OpenSearch reset alone); an existing index — Tally's or the web app's — is left
# alone, and the scheduled es-sync keeps them current. 75: the scheduled es-sync holds the job lock.
LOG_LEVEL=warn node services/es-sync/dist/main.js --init || [[ $? -eq 75 ]]
bash scripts/services.sh up
# A short burst of realistic traffic, then the jobs that publish it, so the admin UI shows live data
# right away (the scheduled runs would get there within 5 and 30 minutes). A job already running in
# the scheduled service makes --once exit 75 (locked): that run publishes the same data.
echo "tally: a short burst of simulated traffic" >&2
tally simulate --rate 100 --duration 10s --no-progress
sleep 2
LOG_LEVEL=warn node services/flusher/dist/main.js --once || [[ $? -eq 75 ]]
LOG_LEVEL=warn node services/snapshot-builder/dist/main.js --once || [[ $? -eq 75 ]]
echo "tally: admin UI http://127.0.0.1:8090/admin/ (token: dev-admin-token), API docs http://127.0.0.1:8090/docs, ingest http://127.0.0.1:8080/docs" >&2
echo "tally: up in $(( $(date +%s) - t0 ))s — 'stack/stack status' and 'scripts/services.sh status' show what runs, 'npm test' runs the tests" >&2
