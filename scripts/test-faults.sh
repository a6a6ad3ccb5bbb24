#!/usr/bin/env bash
# The whole fault suite (tests/faults) and the security suite (tests/security) against the real local
# stack, one file after another, then the figure the README quotes: scenarios passed, events driven
# through them, events lost, events counted twice. Extra arguments go to jest (e.g. a single file).
set -euo pipefail
cd "$(dirname "$0")/.."
bash stack/stack up >/dev/null 2>&1 || bash stack/stack up   # idempotent; shows errors on failure
npx tsc -b
export TALLY_FAULT_REPORT; TALLY_FAULT_REPORT="$(mktemp)"
results="$(mktemp)"
set +e
(( $# > 0 )) || set -- tests/faults tests/security
npx jest --selectProjects integration --runInBand --forceExit --json --outputFile="$results" "$@"
rc=$?
set -e
node - "$results" "$TALLY_FAULT_REPORT" <<'JS'
const fs = require('fs');
const [results, reports] = process.argv.slice(2);
const r = JSON.parse(fs.readFileSync(results, 'utf8'));
const lines = fs.readFileSync(reports, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
const sum = (k) => lines.reduce((a, x) => a + x[k], 0);
const files = r.testResults.length;
const filesPassed = r.testResults.filter((t) => t.status === 'passed').length;
console.log(`fault suite: ${filesPassed}/${files} files and ${r.numPassedTests}/${r.numTotalTests} tests passed; ` +
  `${lines.length} conservation checks over ${sum('driven')} submissions (${sum('accepted')} distinct events); ` +
  `lost ${sum('lost') + sum('rawMissing')}, counted twice ${sum('doubleCounted') + sum('rawDuplicated')}, ` +
  `store mismatches ${sum('mismatched')}, dead letters ${sum('deadLetters')}/${sum('deadLettersExpected')} expected`);
JS
rm -f "$results" "$TALLY_FAULT_REPORT"
exit $rc
