#!/usr/bin/env bash
# Quick start, command 2: the whole test suite against the real local stack.
# Extra arguments go to jest (e.g. `npm test -- tests/smoke`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash stack/stack up >/dev/null 2>&1 || bash stack/stack up   # idempotent; shows errors on failure
echo "tally: typecheck" >&2
npx tsc -b
echo "tally: lint" >&2
npm run --silent lint   # eslint, prettier --check (print width 140; `npm run format` fixes), source sizes (≤ 300 lines)
echo "tally: schema compatibility (each changed schema against its previous committed version, by the registry)" >&2
node packages/cli/dist/bin.js schemas check --git
echo "tally: jest (unit, then integration against the stack)" >&2
report="$(mktemp)"
set +e
# --forceExit: a leaked handle in one test file (a client a test forgot to close) must not hang CI
# until its time limit; the results are already final when jest reports them.
npx jest --json --outputFile="$report" --forceExit "$@"
rc=$?
set -e
# One plain closing line for CI, whatever jest printed above it.
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests + r.numRuntimeErrorTestSuites} failed`);
' "$report" || echo "tests: 0 passed, 1 failed"
rm -f "$report"
exit $rc
