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
bash scripts/services.sh up
echo "tally: up in $(( $(date +%s) - t0 ))s — 'stack/stack status' and 'scripts/services.sh status' show what runs, 'npm test' runs the tests" >&2
