#!/usr/bin/env node
// Writes packages/events/src/generated/events.ts and the SDK's packages/sdk/src/generated/events.ts
// from schemas/, or with --check exits 1 when a committed file differs. Runs the compiled codegen (npx tsc -b first) so it needs nothing but node;
// CI runs the same comparisons as jest unit tests (src/codegen.test.ts, src/sdk-codegen.test.ts).
const { writeFileSync, mkdirSync } = require('node:fs');
const { dirname } = require('node:path');

let codegen;
try {
  codegen = require('../dist/codegen.js');
} catch {
  console.error('packages/events/dist is missing: run `npx tsc -b` first');
  process.exit(2);
}
const { checkGeneratedFile, renderEventTypes, GENERATED_FILE } = codegen;
const { checkSdkGeneratedFile, renderSdkEventTypes, SDK_GENERATED_FILE } = require('../dist/sdk-codegen.js');
const { readSchemaSource } = require('../dist/schema-source.js');

const outputs = [
  { target: GENERATED_FILE, render: renderEventTypes, check: checkGeneratedFile },
  { target: SDK_GENERATED_FILE, render: renderSdkEventTypes, check: checkSdkGeneratedFile },
];

if (process.argv.includes('--check')) {
  let failed = false;
  for (const o of outputs) {
    const result = o.check(undefined, o.target);
    if (result.ok) console.log(`${o.target} is up to date`);
    else {
      console.error(result.message);
      failed = true;
    }
  }
  if (failed) process.exit(1);
} else {
  for (const o of outputs) {
    mkdirSync(dirname(o.target), { recursive: true });
    writeFileSync(o.target, o.render(readSchemaSource()));
    console.log(`wrote ${o.target}`);
  }
}
