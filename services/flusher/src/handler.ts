import { METRICS, type Metric } from '@tally/layout';

/** Summed deltas of one movie in a taken hash (0 for a metric it has no field for). */
export type MovieDeltas = { id: number } & Record<Metric, number>;

const noDeltas = (id: number): MovieDeltas => ({ id, ...(Object.fromEntries(METRICS.map((m) => [m, 0])) as Record<Metric, number>) });

/** `off:{topic}:{partition}` of a taken hash: the highest offset whose effect the hash holds. */
export interface CoveredOffset {
  topic: string;
  partition: number;
  /** Kafka offsets are int64: kept as a decimal string end to end. */
  offset: string;
}

export interface CounterField {
  metric: Metric;
  id: number;
}

/** `state:{facet}:{javId}:{userId}` → `at|eventId|value`: a user's latest like/unlike the counter stored. */
export interface UserState {
  facet: string;
  javId: number;
  userId: number;
  /** occurred_at of the change, epoch ms. */
  at: number;
  eventId: string | null;
  value: number;
}

export interface ParsedFlush {
  /** Per-user states the deltas came from, written to movie_user_state in the same transaction. */
  states: UserState[];
  /** Movies with at least one non-zero delta, ascending id (one lock order for every flush). */
  movies: MovieDeltas[];
  /** Every `{metric}:{id}` field, zero deltas included: the display keys to re-align. */
  fields: CounterField[];
  offsets: CoveredOffset[];
  /** Fields neither a counter nor an offset, or with a non-integer value: logged, never applied. */
  malformed: string[];
}

const INTEGER = /^-?\d{1,16}$/;
const OFFSET = /^\d{1,19}$/;
const METRIC_SET = new Set<string>(METRICS);

/**
 * Decodes a taken pending hash (the counter's layout, see @tally/layout counterKeys). A malformed
 * field is reported rather than thrown: throwing would wedge every future flush on one bad field.
 */
export function parseFlushHash(entries: Iterable<readonly [string, string]>): ParsedFlush {
  const byId = new Map<number, MovieDeltas>();
  const fields: CounterField[] = [];
  const offsets: CoveredOffset[] = [];
  const malformed: string[] = [];
  const states: UserState[] = [];
  for (const [field, value] of entries) {
    if (field.startsWith('state:')) {
      const state = parseStateField(field, value);
      if (state) states.push(state);
      else malformed.push(field);
      continue;
    }
    if (field.startsWith('off:')) {
      const offset = parseOffsetField(field, value);
      if (offset) offsets.push(offset);
      else malformed.push(field);
      continue;
    }
    const counter = parseCounterField(field);
    const delta = INTEGER.test(value) ? Number(value) : NaN;
    if (!counter || !Number.isSafeInteger(delta)) {
      malformed.push(field);
      continue;
    }
    fields.push(counter);
    if (delta === 0) continue;
    const movie = byId.get(counter.id) ?? noDeltas(counter.id);
    movie[counter.metric] += delta;
    byId.set(counter.id, movie);
  }
  const movies = [...byId.values()].filter((m) => METRICS.some((metric) => m[metric] !== 0)).sort((a, b) => a.id - b.id);
  return { movies, fields, offsets, malformed, states };
}

function parseCounterField(field: string): CounterField | undefined {
  const colon = field.indexOf(':');
  const metric = field.slice(0, colon);
  const idText = field.slice(colon + 1);
  if (colon < 0 || !METRIC_SET.has(metric) || !/^\d{1,15}$/.test(idText)) return undefined;
  const id = Number(idText);
  return id > 0 ? { metric: metric as Metric, id } : undefined;
}

const FACETS = new Set(['like', 'rating', 'watchlist']);
const STATE_VALUE = /^(\d{1,15})\|([0-9a-f-]{0,36})\|(\d{1,3})$/;

function parseStateField(field: string, value: string): UserState | undefined {
  const [, facet, javText, userText, extra] = field.split(':');
  const v = STATE_VALUE.exec(value);
  if (extra !== undefined || !facet || !FACETS.has(facet) || !/^\d{1,15}$/.test(javText ?? '') || !/^\d{1,15}$/.test(userText ?? '') || !v)
    return undefined;
  return {
    facet,
    javId: Number(javText),
    userId: Number(userText),
    at: Number(v[1]),
    eventId: v[2] === '' ? null : v[2]!,
    value: Number(v[3]),
  };
}

function parseOffsetField(field: string, value: string): CoveredOffset | undefined {
  // Topic names never hold ':' (TOPIC_PREFIX allows letters, digits, '.', '_', '-'): the partition is
  // what follows the last one.
  const last = field.lastIndexOf(':');
  const topic = field.slice(4, last);
  const partitionText = field.slice(last + 1);
  if (last <= 4 || topic === '' || !/^\d{1,9}$/.test(partitionText) || !OFFSET.test(value)) return undefined;
  return { topic, partition: Number(partitionText), offset: value };
}

export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * Multi-row INSERT of deltas into the flush's temp table. Values are inlined, not bound: every one is
 * a safe integer parsed and checked above, so this is injection-free and spares the driver escaping
 * 20,000 placeholders per statement.
 */
export function insertDeltasSql(table: string, movies: readonly MovieDeltas[]): string {
  for (const m of movies) {
    if (![m.id, ...METRICS.map((metric) => m[metric])].every(Number.isSafeInteger))
      throw new Error(`not an integer delta for movie ${m.id}`);
  }
  return `INSERT INTO ${table} (id, ${METRICS.join(', ')}) VALUES ${movies.map((m) => `(${[m.id, ...METRICS.map((metric) => m[metric])].join(',')})`).join(',')}`;
}

/** MySQL's counts per movie after the flush, missing movies absent. */
export type MovieCounts = Map<number, Record<Metric, number>>;

/**
 * Arguments of the re-align script for some fields: display key and pending field per field, and the
 * MySQL value it is based on. A movie MySQL does not have counts as 0, as the counter's seed does.
 */
export function realignArgs(
  fields: readonly CounterField[],
  counts: MovieCounts,
  keyOf: (f: CounterField) => string,
  pendingFieldOf: (f: CounterField) => string,
): { keys: string[]; argv: string[] } {
  const keys: string[] = [];
  const argv: string[] = [];
  for (const f of fields) {
    keys.push(keyOf(f));
    argv.push(pendingFieldOf(f), String(counts.get(f.id)?.[f.metric] ?? 0));
  }
  return { keys, argv };
}
