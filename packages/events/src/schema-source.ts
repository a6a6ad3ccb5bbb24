import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * schemas/ at the repo root is the source of truth. From src/ (jest, swc) and from dist/ (tsc output)
 * it is the same three levels up, so one path serves both.
 */
export const SCHEMAS_DIR = resolve(__dirname, '../../../schemas');

/** An Avro schema as JSON (the registry and avsc both take this shape). */
export type AvroSchema = string | AvroSchema[] | { [key: string]: unknown };

/** What schemas/topics.json says about one event type. */
export interface TopicSpec {
  readonly topic: string;
  /** File name of the value schema inside schemas/. */
  readonly schema: string;
  /** Parts of the record key, joined by ':'; `viewer` = `user:<user_id>` or `ip:<ip>` for a guest. */
  readonly key: readonly string[];
  readonly key_why: string;
  readonly partitions: number;
  readonly retention_ms: number;
  /** Admin events: accepted only with a server key, never from a browser (whose key is public). */
  readonly server_only: boolean;
  /** The event-logger's raw log of this type (a table Tally owns); its columns are the schema's fields. */
  readonly raw_log_table: string;
}

export interface DeadLetterSpec {
  readonly topic: string;
  readonly partitions: number;
  readonly retention_ms: number;
  readonly why: string;
}

/** Everything read from schemas/: the topic catalog and each event's parsed .avsc, in catalog order. */
export interface SchemaSource {
  readonly events: readonly { readonly type: string; readonly spec: TopicSpec; readonly schema: AvroSchema }[];
  readonly deadLetter: DeadLetterSpec;
}

function fail(dir: string, what: string): never {
  throw new Error(`${join(dir, 'topics.json')}: ${what}`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`${path}: ${(e as Error).message}`);
  }
}

function num(dir: string, v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) fail(dir, `${what} must be a positive integer`);
  return v;
}

function flag(dir: string, v: unknown, what: string): boolean {
  if (v !== undefined && typeof v !== 'boolean') fail(dir, `${what} must be true or false`);
  return v === true;
}

/**
 * Reads topics.json and every schema it names. Throws naming the file when the catalog and the
 * .avsc files disagree (a schema no topic uses, a topic without its schema), so a half-added event
 * type breaks at load time rather than at the first message.
 */
export function readSchemaSource(dir: string = SCHEMAS_DIR): SchemaSource {
  const catalog = readJson(join(dir, 'topics.json'));
  if (!isObject(catalog) || !isObject(catalog.events) || !isObject(catalog.defaults) || !isObject(catalog.dead_letter)) {
    fail(dir, 'must have objects "defaults", "events" and "dead_letter"');
  }
  const defaults = catalog.defaults;
  const events = Object.entries(catalog.events).map(([type, raw]) => {
    if (!isObject(raw) || typeof raw.topic !== 'string' || typeof raw.schema !== 'string' || typeof raw.key_why !== 'string') {
      fail(dir, `events["${type}"] needs string "topic", "schema" and "key_why"`);
    }
    if (typeof raw.raw_log_table !== 'string' || !/^[a-z][a-z0-9_]*_events$/.test(raw.raw_log_table)) {
      fail(dir, `events["${type}"].raw_log_table must name the raw log, a snake_case table ending in _events`);
    }
    if (!Array.isArray(raw.key) || raw.key.length === 0 || !raw.key.every((k) => typeof k === 'string')) {
      fail(dir, `events["${type}"].key must be a non-empty list of field names`);
    }
    const spec: TopicSpec = {
      topic: raw.topic,
      schema: raw.schema,
      key: raw.key as string[],
      key_why: raw.key_why,
      partitions: num(dir, raw.partitions ?? defaults.partitions, `events["${type}"].partitions`),
      retention_ms: num(dir, raw.retention_ms ?? defaults.retention_ms, `events["${type}"].retention_ms`),
      server_only: flag(dir, raw.server_only, `events["${type}"].server_only`),
      raw_log_table: raw.raw_log_table,
    };
    return { type, spec, schema: readJson(join(dir, spec.schema)) as AvroSchema };
  });
  const used = new Set(events.map((e) => e.spec.schema));
  const unused = readdirSync(dir).filter((f) => f.endsWith('.avsc') && !used.has(f));
  if (unused.length > 0) fail(dir, `no event type uses ${unused.join(', ')}`);
  const dl = catalog.dead_letter;
  if (typeof dl.topic !== 'string' || typeof dl.why !== 'string') fail(dir, 'dead_letter needs string "topic" and "why"');
  const deadLetter: DeadLetterSpec = {
    topic: dl.topic,
    why: dl.why,
    partitions: num(dir, dl.partitions ?? defaults.partitions, 'dead_letter.partitions'),
    retention_ms: num(dir, dl.retention_ms, 'dead_letter.retention_ms'),
  };
  return { events, deadLetter };
}
