import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkGeneratedFile, GENERATED_FILE, renderEventTypes } from './codegen';
import { readSchemaSource, SCHEMAS_DIR } from './schema-source';

describe('generated/events.ts', () => {
  it('is up to date with schemas/ (drift check; fix with scripts/generate-types.js)', () => {
    expect(checkGeneratedFile()).toEqual({ ok: true });
  });

  it('carries the do-not-edit header', () => {
    expect(readFileSync(GENERATED_FILE, 'utf8')).toMatch(/^\/\/ generated — do not edit\./);
  });
});

describe('the drift check', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tally-codegen-'));
    cpSync(SCHEMAS_DIR, dir, { recursive: true });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('fails, naming the file and the line, when a schema changed but the types were not regenerated', () => {
    const path = join(dir, 'movie-rated.avsc');
    const schema = JSON.parse(readFileSync(path, 'utf8'));
    schema.fields.push({ name: 'review', type: ['null', 'string'], default: null, doc: 'Optional review text.' });
    writeFileSync(path, JSON.stringify(schema));

    const result = checkGeneratedFile(dir, GENERATED_FILE);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.message).toContain(`${GENERATED_FILE} is out of date with ${dir}`);
    expect(result.message).toContain('/** Optional review text. */');
    expect(result.message).toContain('generate-types.js');
  });

  it('renders the new field once regenerated, and then passes', () => {
    const path = join(dir, 'movie-rated.avsc');
    const schema = JSON.parse(readFileSync(path, 'utf8'));
    schema.fields.push({ name: 'review', type: ['null', 'string'], default: null, doc: 'Optional review text.' });
    writeFileSync(path, JSON.stringify(schema));
    const out = join(dir, 'events.ts');
    writeFileSync(out, renderEventTypes(readSchemaSource(dir)));

    expect(readFileSync(out, 'utf8')).toMatch(/export interface MovieRated extends EventEnvelope \{[^}]* {2}review: null \| string;\n\}/);
    expect(checkGeneratedFile(dir, out)).toEqual({ ok: true });
  });

  it('fails, naming the file, when the generated file is missing', () => {
    const missing = join(dir, 'nope.ts');
    expect(checkGeneratedFile(dir, missing)).toEqual({ ok: false, message: expect.stringContaining(`${missing} is missing`) });
  });
});

describe('renderEventTypes', () => {
  const text = renderEventTypes(readSchemaSource());

  it('maps Avro types to TypeScript: nullable unions, maps, enums, timestamps as numbers', () => {
    expect(text).toContain("export type SearchEntityType = 'movie' | 'actor' | 'tag';");
    expect(text).toMatch(
      /export interface SearchPerformed extends EventEnvelope \{[^}]* {2}filters: Record<string, string>;\n[^}]* {2}entity_type: SearchEntityType;/,
    );
    expect(text).toMatch(
      /export interface FeaturedItemUpdated extends EventEnvelope \{[^}]* {2}previous_group: null \| string;\n[^}]* {2}expires_at: null \| number;/,
    );
    expect(text).toMatch(/ {2}occurred_at: number;/);
  });

  it('renders the envelope once and has every event extend it', () => {
    expect(text).toMatch(
      /export interface EventEnvelope \{\n[^}]* {2}event_id: string;\n[^}]* {2}user_id: null \| number;\n[^}]* {2}is_bot: boolean;\n\}/,
    );
    expect(text.match(/ extends EventEnvelope \{/g)).toHaveLength(readSchemaSource().events.length);
  });

  it('declares a shared enum once even though three featured schemas define it', () => {
    expect(text.match(/export type FeaturedItemType =/g)).toHaveLength(1);
  });

  it('builds the discriminated union and the event type tuple in catalog order', () => {
    expect(text).toContain("  | { type: 'movie.viewed'; payload: MovieViewed }");
    expect(text).toMatch(/export const EVENT_TYPES = \[\n {2}'movie\.viewed',\n[\s\S]*'featured\.item\.removed',\n\] as const;/);
  });
});
