#!/usr/bin/env bash
# Runs every benchmark, one after the other (they would compete for the two cores otherwise).
# Usage: npm run bench [-- --cold]
set -euo pipefail
cd "$(dirname "$0")"
echo "### stack start-up and memory"
bash stack-start.sh "$@"
