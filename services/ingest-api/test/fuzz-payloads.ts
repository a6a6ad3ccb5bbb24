import fc from 'fast-check';
import { MAX_NAME_CHARS, MAX_QUERY_CHARS, MAX_USER_AGENT_CHARS, eventDefinition, sampleEvents, type EventType } from '@tally/events';
import type { KeyKind } from '../src/auth';

// Generators of what clients might POST to /v1/events, shared by the in-process fuzz
// (src/fuzz.test.ts, app.inject) and the fuzz of the real process (tests/security/ingest-fuzz.test.ts).
// Each generated event says what the API must make of it: `valid` ones are built to pass every rule
// and must be accepted, `invalid` ones carry exactly one defect and must be rejected naming `field`,
// `unknown` ones are random near misses: whatever the verdict, it must be consistent.

/** What a browser would send for each event type: the samples without server-set fields. */
export function clientEvents(): Record<string, unknown>[] {
  return Object.entries(sampleEvents()).map(([type, p]) => {
    const { received_at: _r, is_bot: _b, repeat_view: _v, ip: _i, user_agent: _u, ...rest } = p as unknown as Record<string, unknown>;
    return { type, ...rest };
  });
}

/** Text that broke parsers, databases and pages elsewhere; valid events must carry it verbatim. */
export const HOSTILE_STRINGS: readonly string[] = [
  "'; DROP TABLE jav; --",
  "' OR 1=1 --",
  '" OR ""="',
  "1'; SELECT SLEEP(5); --",
  "\\'; DELETE FROM search_events; --",
  '<script>alert(1)</script>',
  '<img src=x onerror=alert(1)>',
  '"><svg onload=alert(1)>',
  'javascript:alert(1)',
  '{{7*7}}',
  '${7*7}',
  'nul\u0000byte',
  '\u202eevil',
  'zero\u200bwidth',
  'e\u0301',
  '😀🎬',
  '👨‍👩‍👧‍👦',
  'مرحبا',
  '日本語の検索',
  '\r\n\t',
  '\\',
  '%00',
  '../../etc/passwd',
];

const codePoints = (s: string) => [...s].length;

/** Non-blank text of at most `max` code points (how MySQL utf8mb4 and the domain rules count). */
const text = (max: number) =>
  fc
    .oneof(
      { weight: 3, arbitrary: fc.constantFrom(...HOSTILE_STRINGS) },
      { weight: 3, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: Math.min(max, 80) }) },
      // Exactly at the limit, rarely: a batch of 500 such events would pass the 1 MiB body limit.
      // A short string repeated: generating 500 characters one by one costs 10× the rest of the event.
      { weight: 1, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 8 }).map((s) => s.repeat(max).slice(0, max)) },
    )
    .filter((s) => s.trim() !== '' && codePoints(s) <= max);

export const anyValue = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 3 }),
  fc.constantFrom(
    -1,
    0,
    -0,
    0.5,
    2 ** 31 - 1,
    2 ** 31,
    2 ** 53 - 1,
    2 ** 53,
    1e300,
    '2026-11-26T12:00:00Z',
    '9999-01-01T00:00:00Z',
    '',
    'x'.repeat(600),
    'y'.repeat(20_000),
  ),
  fc.constantFrom(...HOSTILE_STRINGS),
);

const ID_FIELDS = ['jav_id', 'actor_id', 'tag_id', 'item_id'] as const;
// avsc's long accepts up to 2^53 − 2 (its "safe long"), one below Number.MAX_SAFE_INTEGER.
const MAX_LONG = 2 ** 53 - 2;
/** The item id of the event; search.performed has none, its result_count stands in. */
const idFieldOf = (e: Record<string, unknown>) => ID_FIELDS.find((f) => f in e) ?? 'result_count';

/** A valid event of any type with varied values: ids, guests, times as epoch or ISO or left out, hostile text. */
export function validEvent(keyKind: KeyKind): fc.Arbitrary<Record<string, unknown>> {
  // Admin events are valid only from a server key (topics.json server_only).
  const types = clientEvents().filter((e) => keyKind === 'server' || !eventDefinition(e.type as EventType).server_only);
  return fc.oneof(...types.map((base) => validOf(base, keyKind)));
}

/** Only the fields the type has are generated: 100,000 events must take seconds, not minutes. */
function validOf(base: Record<string, unknown>, keyKind: KeyKind): fc.Arbitrary<Record<string, unknown>> {
  const idField = ID_FIELDS.find((f) => f in base);
  const parts = {
    event_id: fc.option(fc.uuid({ version: 4 }), { nil: undefined, freq: 10 }), // left out: the server assigns one
    user_id: fc.option(fc.integer({ min: 1, max: MAX_LONG }), { nil: null }),
    times: fc.constantFrom('epoch', 'iso', 'none'),
    ...(idField ? { id: fc.oneof(fc.integer({ min: 1, max: 1_000_000 }), fc.constant(MAX_LONG)) } : {}),
    // A "__proto__" filter name would make the API refuse the whole body (fastify's prototype-poisoning guard).
    ...('query' in base
      ? {
          query: fc.oneof(text(MAX_QUERY_CHARS), fc.constant('')),
          filters: fc.dictionary(
            text(32).filter((k) => k !== '__proto__'),
            text(64),
            { maxKeys: 3 },
          ),
        }
      : {}),
    ...('reason' in base || 'group' in base ? { name: text(MAX_NAME_CHARS) } : {}),
    ...(keyKind === 'server'
      ? { ip: fc.oneof(fc.ipV4(), fc.ipV6()), userAgent: fc.option(text(MAX_USER_AGENT_CHARS), { nil: null }) }
      : {}),
  };
  return fc.record(parts as Record<string, fc.Arbitrary<unknown>>).map((o) => {
    const e: Record<string, unknown> = { ...base, user_id: o.user_id };
    if (idField) e[idField] = o.id;
    if (o.event_id === undefined) delete e.event_id;
    else e.event_id = o.event_id;
    if (o.times === 'none') {
      delete e.occurred_at;
      delete e.sent_at;
    } else if (o.times === 'iso') {
      e.occurred_at = new Date(e.occurred_at as number).toISOString();
      e.sent_at = new Date(e.sent_at as number).toISOString();
    }
    if ('query' in o) Object.assign(e, { query: o.query, filters: o.filters });
    if ('reason' in e) e.reason = o.name;
    if ('group' in e) e.group = o.name;
    if ('ip' in o) Object.assign(e, { ip: o.ip, user_agent: o.userAgent });
    return e;
  });
}

type Defect = (e: Record<string, unknown>, keyKind: KeyKind) => { event: Record<string, unknown>; field: string };
const DEFECTS: Defect[] = [
  (e) => ({ event: { ...e, type: 'movie.teleported' }, field: 'type' }),
  ({ type: _t, ...e }) => ({ event: e, field: 'type' }),
  (e) => ({ event: { ...e, received_at: 1_764_158_400_000 }, field: 'received_at' }),
  (e) => ({ event: { ...e, is_bot: false }, field: 'is_bot' }),
  (e) => ({ event: { ...e, repeat_view: false }, field: 'repeat_view' }),
  (e) => ({ event: { ...e, x_extra: 1 }, field: 'x_extra' }),
  (e) => ({ event: { ...e, event_id: '00000000-0000-0000-0000-000000000000' }, field: 'event_id' }),
  (e) => ({ event: { ...e, occurred_at: 'yesterday' }, field: 'occurred_at' }),
  (e) => ({ event: { ...e, user_id: 0 }, field: 'user_id' }),
  (e) => ({ event: { ...e, [idFieldOf(e)]: String(e[idFieldOf(e)]) }, field: idFieldOf(e) }),
  (e) => ({ event: { ...e, [idFieldOf(e)]: 2 ** 53 }, field: idFieldOf(e) }),
  (e) => {
    const { [idFieldOf(e)]: _id, ...rest } = e;
    return { event: rest, field: idFieldOf(e) };
  },
  (e, k) => (k === 'browser' ? { event: { ...e, ip: '198.51.100.9' }, field: 'ip' } : { event: { ...e, ip: '999.1.1.1' }, field: 'ip' }),
  (e, k) => ({ event: { ...e, user_agent: k === 'browser' ? 'Mozilla/5.0' : 'u'.repeat(MAX_USER_AGENT_CHARS + 1) }, field: 'user_agent' }),
  (e) =>
    'query' in e
      ? { event: { ...e, query: 'q'.repeat(MAX_QUERY_CHARS + 1 + (e.query as string).length) }, field: 'query' }
      : { event: { ...e, x_extra: 'query' }, field: 'x_extra' },
  (e) => ('rating' in e ? { event: { ...e, rating: 6 }, field: 'rating' } : { event: { ...e, user_id: -5 }, field: 'user_id' }),
];

/** One event as generated, with what the API must answer for it. */
export interface FuzzEvent {
  event: unknown;
  verdict: 'valid' | 'invalid' | 'unknown';
  /** For `invalid`: the field the rejection must name. */
  field?: string;
}

/** A valid event with some fields removed, replaced or added: near misses are the interesting inputs. */
function nearMiss(keyKind: KeyKind): fc.Arbitrary<Record<string, unknown>> {
  return fc
    .tuple(
      validEvent(keyKind),
      fc.array(fc.tuple(fc.constantFrom('drop', 'set', 'add'), fc.nat(), anyValue), { minLength: 1, maxLength: 4 }),
    )
    .map(([base, edits]) => {
      const e: Record<string, unknown> = { ...base };
      for (const [op, n, v] of edits) {
        const keys = Object.keys(e);
        const k = op === 'add' || keys.length === 0 ? `f${n % 5}` : keys[n % keys.length]!;
        if (op === 'drop') delete e[k];
        else e[k] = v;
      }
      return e;
    });
}

export function fuzzEvent(keyKind: KeyKind, objectsOnly = false): fc.Arbitrary<FuzzEvent> {
  const kinds: fc.WeightedArbitrary<FuzzEvent>[] = [
    { weight: 5, arbitrary: validEvent(keyKind).map((event) => ({ event, verdict: 'valid' as const })) },
    {
      weight: 3,
      arbitrary: fc
        .tuple(validEvent(keyKind), fc.constantFrom(...DEFECTS))
        .map(([e, defect]) => ({ ...defect(e, keyKind), verdict: 'invalid' as const })),
    },
    { weight: 2, arbitrary: nearMiss(keyKind).map((event) => ({ event, verdict: 'unknown' as const })) },
  ];
  if (!objectsOnly) {
    const notObject = fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.boolean(), fc.array(anyValue, { maxLength: 3 }));
    kinds.push({ weight: 1, arbitrary: notObject.map((event) => ({ event, verdict: 'invalid' as const, field: '(event)' })) });
  }
  return fc.oneof(...kinds);
}
