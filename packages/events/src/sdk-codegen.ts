import { resolve } from 'node:path';
import { CLIENT_TIME_FIELDS, SERVER_FILLED_FIELDS, SERVER_KEY_ONLY_FIELDS, SERVER_SET_FIELDS } from './client-fields';
import { commonEnvelope, compareGenerated, type DriftResult, type Field } from './codegen';
import { readSchemaSource, SCHEMAS_DIR, type AvroSchema, type SchemaSource } from './schema-source';

/**
 * The SDK's event types: the events as a client sends them. The SDK is used outside this repo and
 * must not import @tally/events, so its types are rendered into its own source and committed.
 * `../../sdk/src` resolves to the SDK's source both from src/ (jest) and from dist/ (the script).
 */
export const SDK_GENERATED_FILE = resolve(__dirname, '../../sdk/src/generated/events.ts');

const COMMAND = 'npx tsc -b && node packages/events/scripts/generate-types.js';
const HEADER = `// generated — do not edit.
// Source: schemas/*.avsc and schemas/topics.json, as the ingest API accepts events from a client: the
// fields the server sets (${SERVER_SET_FIELDS.join(', ')}) are absent, ${SERVER_KEY_ONLY_FIELDS.join(' and ')} need a server key.
// Regenerate: ${COMMAND}
`;

const SERVER_SET = new Set(SERVER_SET_FIELDS);
const SERVER_ONLY = new Set<string>(SERVER_KEY_ONLY_FIELDS);
const CLIENT_TIME = new Set<string>(CLIENT_TIME_FIELDS);
const FILLED = new Set(SERVER_FILLED_FIELDS);
const PRIMITIVES: Record<string, string> = {
  null: 'null',
  boolean: 'boolean',
  int: 'number',
  long: 'number',
  float: 'number',
  double: 'number',
  string: 'string',
};

const shortName = (name: string) => name.slice(name.lastIndexOf('.') + 1);
const jsDoc = (doc: string | undefined, indent: string) => (doc ? `${indent}/** ${doc.replace(/\*\//g, '*\\/')} */\n` : '');

class ClientRenderer {
  readonly enums = new Map<string, string>();

  typeOf(field: string, t: AvroSchema): string {
    if (typeof t === 'string') return PRIMITIVES[t] ?? shortName(t);
    if (Array.isArray(t)) return t.map((x) => this.typeOf(field, x)).join(' | ');
    const o = t as Record<string, unknown>;
    if (o.logicalType === 'timestamp-millis' && CLIENT_TIME.has(field)) return 'Timestamp';
    if (o.type === 'enum') {
      const name = shortName(String(o.name));
      const text = `${jsDoc(o.doc as string | undefined, '')}export type ${name} = ${(o.symbols as string[]).map((s) => `'${s}'`).join(' | ')};\n`;
      if (this.enums.has(name) && this.enums.get(name) !== text) throw new Error(`Avro enum ${name} is defined differently in two schemas`);
      this.enums.set(name, text);
      return name;
    }
    if (o.type === 'map') return `Record<string, ${this.typeOf(field, o.values as AvroSchema)}>`;
    return this.typeOf(field, o.type as AvroSchema);
  }

  fields(fields: readonly Field[]): string {
    return fields
      .filter((f) => !SERVER_SET.has(f.name))
      .map((f) => {
        const optional = FILLED.has(f.name) || SERVER_ONLY.has(f.name) || 'default' in f;
        const doc = SERVER_ONLY.has(f.name) ? `${f.doc ?? ''} Accepted only with a server key.`.trim() : f.doc;
        return `${jsDoc(doc, '  ')}  ${f.name}${optional ? '?' : ''}: ${this.typeOf(f.name, f.type)};\n`;
      })
      .join('');
  }
}

/** The TypeScript source of the SDK's generated/events.ts; deterministic, so it can be diffed. */
export function renderSdkEventTypes(source: SchemaSource): string {
  const envelope = commonEnvelope(source);
  const r = new ClientRenderer();
  const common = `/** Fields a client may send with any event type. */\nexport interface EventCommon {\n${r.fields(envelope)}}\n`;
  const events = source.events.map((e) => {
    const schema = e.schema as { name: string; doc?: string; fields: Field[] };
    const name = shortName(schema.name);
    const own = r.fields(schema.fields.slice(envelope.length));
    return {
      type: e.type,
      name,
      text: `${jsDoc(schema.doc, '')}export interface ${name} extends EventCommon {\n  type: '${e.type}';\n${own}}\n`,
    };
  });
  return [
    HEADER,
    '\n/** Epoch milliseconds or an ISO-8601 date-time with a zone; the server converts both to epoch milliseconds. */\n',
    'export type Timestamp = number | string;\n\n',
    common,
    '\n',
    [...r.enums.values()].join('\n'),
    '\n',
    events.map((e) => e.text).join('\n'),
    '\n/** Any event track() accepts, discriminated on `type`. */\n',
    `export type TallyEvent =\n${events.map((e) => `  | ${e.name}`).join('\n')};\n`,
    "\nexport type EventType = TallyEvent['type'];\n",
    '\n/** Every event type, in the order of schemas/topics.json. */\n',
    `export const EVENT_TYPES = [\n${events.map((e) => `  '${e.type}',\n`).join('')}] as const satisfies readonly EventType[];\n`,
  ].join('');
}

/** Regenerates the SDK's types in memory and compares with the committed file (the message names the fix). */
export function checkSdkGeneratedFile(schemasDir: string = SCHEMAS_DIR, generatedFile: string = SDK_GENERATED_FILE): DriftResult {
  return compareGenerated(renderSdkEventTypes(readSchemaSource(schemasDir)), schemasDir, generatedFile);
}
