import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { readSchemaSource, SCHEMAS_DIR, type AvroSchema, type SchemaSource } from './schema-source';

/**
 * Where the committed output lives; scripts/generate-types.js writes it, the drift test compares it.
 * `../src` resolves to the source file both from src/ (jest) and from dist/ (the compiled script).
 */
export const GENERATED_FILE = resolve(__dirname, '../src/generated/events.ts');

const HEADER = `// generated — do not edit.
// Source: schemas/*.avsc and schemas/topics.json. Regenerate: npx tsc -b && node packages/events/scripts/generate-types.js
// Timestamps (logicalType timestamp-millis) are numbers of epoch milliseconds and longs are numbers:
// avsc is used without logical-type classes, so decode and encode give plain numbers everywhere.
`;

const PRIMITIVES: Record<string, string> = {
  null: 'null',
  boolean: 'boolean',
  int: 'number',
  long: 'number',
  float: 'number',
  double: 'number',
  string: 'string',
  bytes: 'Buffer',
};

function shortName(name: string): string {
  return name.slice(name.lastIndexOf('.') + 1);
}

function jsDoc(doc: unknown, indent: string): string {
  if (typeof doc !== 'string' || doc === '') return '';
  return `${indent}/** ${doc.replace(/\*\//g, '*\\/')} */\n`;
}

/** Renders named Avro types (records, enums) once each, in first-seen order. */
class Renderer {
  private readonly declared = new Map<string, string>();
  readonly blocks: string[] = [];

  /** Leading fields every event record shares (the envelope), rendered once as `EventEnvelope`. */
  constructor(private readonly envelope: readonly Field[] = []) {}

  typeOf(schema: AvroSchema): string {
    if (typeof schema === 'string') return PRIMITIVES[schema] ?? shortName(schema);
    if (Array.isArray(schema)) return schema.map((s) => this.typeOf(s)).join(' | ');
    const t = schema.type;
    if (typeof t !== 'string') return this.typeOf(t as AvroSchema);
    switch (t) {
      case 'map':
        return `Record<string, ${this.typeOf(schema.values as AvroSchema)}>`;
      case 'array':
        return `Array<${this.typeOf(schema.items as AvroSchema)}>`;
      case 'fixed':
        return 'Buffer';
      case 'enum':
        return this.declare(
          schema,
          `export type ${shortName(String(schema.name))} = ${(schema.symbols as string[]).map((s) => `'${s}'`).join(' | ')};\n`,
        );
      case 'record':
        return this.declare(schema, this.record(schema));
      default:
        return PRIMITIVES[t] ?? shortName(t); // a primitive with a logicalType, or a named reference
    }
  }

  private declare(schema: Record<string, unknown>, text: string): string {
    const name = shortName(String(schema.name));
    const previous = this.declared.get(name);
    // Two schemas may each define the same enum (Avro has no includes); they must agree or the TS type lies.
    if (previous !== undefined && previous !== JSON.stringify(schema))
      throw new Error(`Avro type ${name} is defined differently in two schemas`);
    if (previous === undefined) {
      this.declared.set(name, JSON.stringify(schema));
      this.blocks.push(jsDoc(schema.doc, '') + text);
    }
    return name;
  }

  private record(schema: Record<string, unknown>): string {
    const all = schema.fields as Field[];
    const inherits = this.envelope.length > 0 && sameFields(all.slice(0, this.envelope.length), this.envelope);
    const own = inherits ? all.slice(this.envelope.length) : all;
    return `export interface ${shortName(String(schema.name))}${inherits ? ' extends EventEnvelope' : ''} ${this.body(own)}`;
  }

  body(fields: readonly Field[]): string {
    return `{\n${fields.map((f) => `${jsDoc(f.doc, '  ')}  ${f.name}: ${this.typeOf(f.type)};\n`).join('')}}\n`;
  }
}

export interface Field {
  readonly name: string;
  readonly type: AvroSchema;
  readonly doc?: string;
  readonly default?: unknown;
}

const sameFields = (a: readonly Field[], b: readonly Field[]) => JSON.stringify(a) === JSON.stringify(b);

/** The longest run of leading fields identical (name, type, default, doc) in every event schema. */
export function commonEnvelope(source: SchemaSource): Field[] {
  const lists = source.events.map((e) => (e.schema as { fields?: Field[] }).fields ?? []);
  const first = lists[0] ?? [];
  let n = 0;
  while (n < first.length && lists.every((l) => sameFields(l.slice(n, n + 1), first.slice(n, n + 1)))) n++;
  return first.slice(0, n);
}

/** The TypeScript source of generated/events.ts for a set of schemas; deterministic, so it can be diffed. */
export function renderEventTypes(source: SchemaSource): string {
  const envelope = commonEnvelope(source);
  const r = new Renderer(envelope);
  const envelopeBlock =
    envelope.length > 0
      ? `/** Fields every event starts with (identical in each schemas/*.avsc). */\nexport interface EventEnvelope ${r.body(envelope)}\n`
      : '';
  const names = source.events.map((e) => ({ type: e.type, name: r.typeOf(e.schema) }));
  const q = (s: string) => `'${s}'`;
  return [
    HEADER,
    '\n',
    envelopeBlock,
    r.blocks.join('\n'),
    '\n/** Every event type, in the order of schemas/topics.json. */\n',
    `export const EVENT_TYPES = [\n${names.map((n) => `  ${q(n.type)},\n`).join('')}] as const;\n`,
    '\nexport type EventType = (typeof EVENT_TYPES)[number];\n',
    '\n/** The Avro record of each event type. */\n',
    `export interface EventPayloads {\n${names.map((n) => `  ${q(n.type)}: ${n.name};\n`).join('')}}\n`,
    '\n/** Any event, discriminated by `type`. */\n',
    `export type TallyEvent =\n${names.map((n) => `  | { type: ${q(n.type)}; payload: ${n.name} }`).join('\n')};\n`,
  ].join('');
}

export type DriftResult = { ok: true } | { ok: false; message: string };

/**
 * Regenerates in memory from `schemasDir` and compares with the committed file. The message names the
 * file, the first differing line and the command that fixes it.
 */
export function checkGeneratedFile(schemasDir: string = SCHEMAS_DIR, generatedFile: string = GENERATED_FILE): DriftResult {
  return compareGenerated(renderEventTypes(readSchemaSource(schemasDir)), schemasDir, generatedFile);
}

/** `expected` against the committed `generatedFile`: the first differing line and the command that fixes it. */
export function compareGenerated(expected: string, schemasDir: string, generatedFile: string): DriftResult {
  let actual: string;
  try {
    actual = readFileSync(generatedFile, 'utf8');
  } catch {
    return { ok: false, message: `${generatedFile} is missing; run: npx tsc -b && node packages/events/scripts/generate-types.js` };
  }
  if (actual === expected) return { ok: true };
  const a = actual.split('\n');
  const e = expected.split('\n');
  let line = 0;
  while (line < Math.max(a.length, e.length) && a[line] === e[line]) line++;
  return {
    ok: false,
    message:
      `${generatedFile} is out of date with ${schemasDir} (first difference at line ${line + 1}: ` +
      `committed ${JSON.stringify(a[line] ?? '<end of file>')}, schemas give ${JSON.stringify(e[line] ?? '<end of file>')}); ` +
      'run: npx tsc -b && node packages/events/scripts/generate-types.js',
  };
}
