import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { checkSdkGeneratedFile, renderSdkEventTypes, SDK_GENERATED_FILE } from './sdk-codegen';
import { readSchemaSource, SCHEMAS_DIR } from './schema-source';

describe("the SDK's generated/events.ts", () => {
  it('is up to date with schemas/ (drift check; fix with scripts/generate-types.js)', () => {
    expect(checkSdkGeneratedFile()).toEqual({ ok: true });
  });

  it('carries the do-not-edit header', () => {
    expect(readFileSync(SDK_GENERATED_FILE, 'utf8')).toMatch(/^\/\/ generated — do not edit\./);
  });

  it('fails, naming the file and the fix, when a schema changed but the types were not regenerated', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tally-sdk-codegen-'));
    try {
      cpSync(SCHEMAS_DIR, dir, { recursive: true });
      const path = join(dir, 'movie-rated.avsc');
      const schema = JSON.parse(readFileSync(path, 'utf8'));
      schema.fields.push({ name: 'review', type: ['null', 'string'], default: null, doc: 'Optional review text.' });
      writeFileSync(path, JSON.stringify(schema));
      const result = checkSdkGeneratedFile(dir);
      expect(result).toEqual({ ok: false, message: expect.stringContaining(`${SDK_GENERATED_FILE} is out of date with ${dir}`) });
      expect(renderSdkEventTypes(readSchemaSource(dir))).toMatch(
        /export interface MovieRated extends EventCommon \{[^}]* {2}review\?: null \| string;\n\}/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is the client shape: no server-set fields, optional id, times and server-key fields, ISO or epoch client times', () => {
    const text = renderSdkEventTypes(readSchemaSource());
    for (const f of ['received_at', 'is_bot', 'repeat_view']) expect(text).not.toMatch(new RegExp(`^ {2}${f}\\??:`, 'm'));
    expect(text).toMatch(/ {2}event_id\?: string;/);
    expect(text).toMatch(/ {2}occurred_at\?: Timestamp;/);
    expect(text).toMatch(/Accepted only with a server key\. \*\/\n {2}ip\?: string;/);
    // expires_at is not a client clock time: the server takes it as epoch milliseconds only.
    expect(text).toMatch(/ {2}expires_at\?: null \| number;/);
    expect(text).toMatch(
      /export interface SearchPerformed extends EventCommon \{\n {2}type: 'search\.performed';[^}]* {2}filters: Record<string, string>;/,
    );
    expect(text.match(/ extends EventCommon \{/g)).toHaveLength(readSchemaSource().events.length);
  });

  it('leaves the SDK free of imports from the rest of the repo', () => {
    const sdk = resolve(SDK_GENERATED_FILE, '../..');
    const sources = readdirSync(sdk, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));
    for (const f of sources)
      expect({ f, imports: /from '@tally\//.test(readFileSync(join(sdk, f), 'utf8')) }).toEqual({ f, imports: false });
  });
});
