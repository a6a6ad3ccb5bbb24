#!/usr/bin/env node
// Writes packages/events/src/generated/events.ts from schemas/, or with --check exits 1 when the
// committed file differs. Runs the compiled codegen (npx tsc -b first) so it needs nothing but node;
// CI runs the same comparison as a jest unit test (src/codegen.test.ts).
const { writeFileSync, mkdirSync } = require('node:fs');
const { dirname } = require('node:path');

let codegen;
try {
  codegen = require('../dist/codegen.js');
} catch {
  console.error('packages/events/dist is missing: run `npx tsc -b` first');
  process.exit(2);
}
const { checkGeneratedFile, renderEventTypes, GENERATED_FILE: target } = codegen;
const { readSchemaSource } = require('../dist/schema-source.js');

if (process.argv.includes('--check')) {
  const result = checkGeneratedFile(undefined, target);
  if (!result.ok) {
    console.error(result.message);
    process.exit(1);
  }
  console.log(`${target} is up to date`);
} else {
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, renderEventTypes(readSchemaSource()));
  console.log(`wrote ${target}`);
}
