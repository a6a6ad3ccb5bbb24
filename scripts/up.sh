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
echo "tally: building TypeScript" >&2
npx tsc -b
echo "tally: up in $(( $(date +%s) - t0 ))s — 'stack/stack status' shows the servers, 'npm test' runs the tests" >&2
