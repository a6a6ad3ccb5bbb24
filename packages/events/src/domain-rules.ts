import { isIP } from 'node:net';

/**
 * Rules Avro cannot express, by field name. Field names mean the same thing in every event (they are
 * the DB column names), so one table serves every schema. Each rule returns a reason naming the
 * constraint, or undefined when the value is fine. Values reaching a rule already passed the Avro check.
 */
export type DomainRule = (value: unknown, record: Readonly<Record<string, unknown>>) => string | undefined;

/**
 * The same rule as JSON Schema (OpenAPI 3.0 subset): the keywords it adds to the field's Avro type, so
 * the ingest API's document states every constraint the validator enforces. Relative rules JSON
 * Schema cannot compare (a time against the server's received_at) are `x-tally-time` extensions.
 */
export type SchemaFragment = Readonly<Record<string, unknown>>;

export interface DomainRuleSpec {
  readonly check: DomainRule;
  readonly schema: SchemaFragment;
}

const DAY_MS = 86_400_000;
/** Nothing in Tally predates 2000; an earlier time is a client sending seconds or a zeroed clock. */
export const MIN_TIME_MS = Date.UTC(2000, 0, 1);
/** Upper bound for times not tied to received_at (received_at itself, expires_at). */
export const MAX_TIME_MS = Date.UTC(2100, 0, 1);
/** A corrected client time may run ahead of the server by a little, never by more than a day. */
export const MAX_FUTURE_SKEW_MS = DAY_MS;
export const MAX_QUERY_CHARS = 500;
export const MAX_USER_AGENT_CHARS = 512;
export const MAX_NAME_CHARS = 64;

// RFC 9562 layout (8-4-4-4-12 hex, version 1-8, variant 10xx); the nil UUID is rejected on purpose
// because a client that forgot to generate an id would dedupe every event into one.
// A pattern without flags, because JSON Schema patterns have none.
export const UUID_PATTERN = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-8][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}$';
const UUID = new RegExp(UUID_PATTERN);

/**
 * The ISO-8601 form a client may send for occurred_at and sent_at: RFC 3339 date-time with a zone (Z or
 * ±hh:mm), years 2000–2099 (the absolute bounds), no leap second (JavaScript dates have none).
 */
export const CLIENT_TIME_PATTERN =
  '^20[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]+)?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$';
const CLIENT_TIME = new RegExp(CLIENT_TIME_PATTERN);

/**
 * Whether `s` has at most `max` characters as MySQL utf8mb4 counts them (code points), not UTF-16
 * units, so emoji count once (as JSON Schema's maxLength does). A string of at most `max` units has
 * at most `max` code points: only a longer one is counted (counting built an array per event).
 */
function atMostChars(s: string, max: number): boolean {
  if (s.length <= max) return true;
  let n = 0;
  for (const _ of s) if (++n > max) return false;
  return true;
}

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * A client time as epoch milliseconds: an integer, or a string of CLIENT_TIME_PATTERN naming a real
 * calendar day (Date.parse would roll 02-30 over into March). Undefined for anything else.
 */
export function parseClientTime(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isSafeInteger(v) ? v : undefined;
  if (typeof v !== 'string' || !CLIENT_TIME.test(v)) return undefined;
  const [y, m, d] = v.slice(0, 10).split('-').map(Number) as [number, number, number];
  if (d > new Date(Date.UTC(y, m, 0)).getUTCDate()) return undefined;
  return Date.parse(v);
}

/**
 * The largest long avsc encodes (it keeps one unit of margin below Number.MAX_SAFE_INTEGER), so the
 * largest id the API accepts: 2^53 - 1 itself fails the Avro check before any rule runs.
 */
export const MAX_AVRO_LONG = 9_007_199_254_740_990;

const SAFE_ID = { minimum: 1, maximum: MAX_AVRO_LONG } as const;

const positiveId: DomainRuleSpec = {
  check: (v) => (v === null || (Number.isSafeInteger(v) && (v as number) > 0) ? undefined : 'must be a positive integer'),
  schema: SAFE_ID,
};

const nonNegative: DomainRuleSpec = {
  check: (v) => ((v as number) >= 0 ? undefined : 'must be an integer of 0 or more'),
  schema: { minimum: 0 },
};

// `\S`: JavaScript's \s is exactly the set String.prototype.trim removes, so "non-blank" means the same in both.
const name: DomainRuleSpec = {
  check: (v) => {
    if (v === null) return undefined;
    const s = v as string;
    return s.trim() === '' || !atMostChars(s, MAX_NAME_CHARS)
      ? `must be a non-blank text of at most ${MAX_NAME_CHARS} characters`
      : undefined;
  },
  schema: { minLength: 1, maxLength: MAX_NAME_CHARS, pattern: '\\S' },
};

function absoluteTimeCheck(v: unknown): string | undefined {
  if (v === null) return undefined;
  const ms = v as number;
  return ms < MIN_TIME_MS || ms >= MAX_TIME_MS
    ? `must be epoch milliseconds from ${iso(MIN_TIME_MS)} to before ${iso(MAX_TIME_MS)}`
    : undefined;
}

const absoluteTime: DomainRuleSpec = {
  check: absoluteTimeCheck,
  schema: { minimum: MIN_TIME_MS, maximum: MAX_TIME_MS - 1, 'x-tally-time': { not_before: iso(MIN_TIME_MS), before: iso(MAX_TIME_MS) } },
};

/** Client-side times: not before 2000, not more than a day after the server received the event. */
const clientTime: DomainRuleSpec = {
  check: (v, record) => {
    if (v === null) return undefined;
    const ms = v as number;
    if (ms < MIN_TIME_MS) return `must be epoch milliseconds not before ${iso(MIN_TIME_MS)}`;
    const received = record.received_at;
    // Without a usable received_at (reported on its own) only the absolute bound can be checked.
    if (typeof received !== 'number' || absoluteTimeCheck(received) !== undefined) return absoluteTimeCheck(ms);
    return ms > received + MAX_FUTURE_SKEW_MS ? 'must not be more than 1 day after received_at' : undefined;
  },
  // The upper bound is relative to the server clock, which JSON Schema cannot see: an extension says it.
  schema: { minimum: MIN_TIME_MS, 'x-tally-time': { not_before: iso(MIN_TIME_MS), max_after_received_at_ms: MAX_FUTURE_SKEW_MS } },
};

const ipRule: DomainRuleSpec = {
  // A zone index (fe80::1%eth0) names an interface of the sender's host, meaningless here; JSON Schema's ipv6 has none either.
  check: (v) => (isIP(v as string) !== 0 && !(v as string).includes('%') ? undefined : 'must be a valid IPv4 or IPv6 address'),
  schema: {
    anyOf: [
      { type: 'string', format: 'ipv4' },
      { type: 'string', format: 'ipv6' },
    ],
  },
};

/** The one table: each field's check and the same rule as a schema fragment. */
export const DOMAIN_RULE_SPECS: Readonly<Record<string, DomainRuleSpec>> = {
  event_id: {
    check: (v) => (UUID.test(v as string) ? undefined : 'must be a UUID (8-4-4-4-12 hexadecimal digits, version 1-8)'),
    schema: { pattern: UUID_PATTERN },
  },
  occurred_at: clientTime,
  sent_at: clientTime,
  received_at: absoluteTime,
  expires_at: absoluteTime,
  user_id: positiveId,
  jav_id: positiveId,
  actor_id: positiveId,
  tag_id: positiveId,
  item_id: positiveId,
  admin_user_id: positiveId,
  ip: ipRule,
  user_agent: {
    check: (v) =>
      v === null || atMostChars(v as string, MAX_USER_AGENT_CHARS) ? undefined : `must be at most ${MAX_USER_AGENT_CHARS} characters`,
    schema: { maxLength: MAX_USER_AGENT_CHARS },
  },
  rating: {
    check: (v) => ((v as number) >= 1 && (v as number) <= 5 ? undefined : 'must be an integer from 1 to 5'),
    schema: { minimum: 1, maximum: 5 },
  },
  query: {
    check: (v) => (atMostChars(v as string, MAX_QUERY_CHARS) ? undefined : `must be at most ${MAX_QUERY_CHARS} characters`),
    schema: { maxLength: MAX_QUERY_CHARS },
  },
  result_count: nonNegative,
  rank: nonNegative,
  group: name,
  previous_group: name,
  reason: name,
};

export const DOMAIN_RULES: Readonly<Record<string, DomainRule>> = Object.fromEntries(
  Object.entries(DOMAIN_RULE_SPECS).map(([field, spec]) => [field, spec.check]),
);

export const DOMAIN_SCHEMAS: Readonly<Record<string, SchemaFragment>> = Object.fromEntries(
  Object.entries(DOMAIN_RULE_SPECS).map(([field, spec]) => [field, spec.schema]),
);
