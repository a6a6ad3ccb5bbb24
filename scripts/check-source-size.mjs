#!/usr/bin/env node
// CI check (npm run lint): no hand-written production source file grows past MAX_LINES, so a
// newcomer can read any one of them in a sitting and a module that grows a second concern shows up
// here instead of in review. Tests, test support and generated files are exempt: their size is
// their cases', not their design's.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const MAX_LINES = 300;
const roots = /^(packages|services)\/[^/]+\/src\/|^bench\/src\//;
const exempt = /\.test\.ts$|\/generated\/|\/testing\/|\/test-support\//;

const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '*.ts'], { encoding: 'utf8' })
  .split('\n')
  .filter((f) => roots.test(f) && !exempt.test(f));
const over = [];
for (const f of files) {
  let text;
  try {
    text = readFileSync(f, 'utf8');
  } catch {
    continue; // deleted in the working tree, still in the index
  }
  const lines = text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
  if (lines > MAX_LINES) over.push(`${f}: ${lines} lines`);
}
if (over.length > 0) {
  console.error(`source files over ${MAX_LINES} lines (split them by concern):\n  ${over.join('\n  ')}`);
  process.exit(1);
}
console.log(`source sizes: ${files.length} files, each ≤ ${MAX_LINES} lines`);
