import { isIP } from 'node:net';

/**
 * Rules Avro cannot express, by field name. Field names mean the same thing in every event (they are
 * the DB column names), so one table serves all 14 schemas. Each rule returns a reason naming the
 * constraint, or undefined when the value is fine. Values reaching a rule already passed the Avro check.
 */
export type DomainRule = (value: unknown, record: Readonly<Record<string, unknown>>) => string | undefined;

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
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

/** Characters as MySQL utf8mb4 counts them (code points), not UTF-16 units, so emoji count once. */
function chars(s: string): number {
  return [...s].length;
}

const iso = (ms: number) => new Date(ms).toISOString();

const positiveId: DomainRule = (v) =>
  v === null || (Number.isSafeInteger(v) && (v as number) > 0) ? undefined : 'must be a positive integer';

const nonNegative: DomainRule = (v) => ((v as number) >= 0 ? undefined : 'must be an integer of 0 or more');

const name: DomainRule = (v) => {
  if (v === null) return undefined;
  const s = v as string;
  return s.trim() === '' || chars(s) > MAX_NAME_CHARS ? `must be a non-blank text of at most ${MAX_NAME_CHARS} characters` : undefined;
};

function absoluteTime(v: unknown): string | undefined {
  if (v === null) return undefined;
  const ms = v as number;
  return ms < MIN_TIME_MS || ms >= MAX_TIME_MS
    ? `must be epoch milliseconds from ${iso(MIN_TIME_MS)} to before ${iso(MAX_TIME_MS)}`
    : undefined;
}

/** Client-side times: not before 2000, not more than a day after the server received the event. */
const clientTime: DomainRule = (v, record) => {
  if (v === null) return undefined;
  const ms = v as number;
  if (ms < MIN_TIME_MS) return `must be epoch milliseconds not before ${iso(MIN_TIME_MS)}`;
  const received = record.received_at;
  // Without a usable received_at (reported on its own) only the absolute bound can be checked.
  if (typeof received !== 'number' || absoluteTime(received) !== undefined) return absoluteTime(ms);
  return ms > received + MAX_FUTURE_SKEW_MS ? 'must not be more than 1 day after received_at' : undefined;
};

export const DOMAIN_RULES: Readonly<Record<string, DomainRule>> = {
  event_id: (v) => (UUID.test(v as string) ? undefined : 'must be a UUID (8-4-4-4-12 hexadecimal digits, version 1-8)'),
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
  ip: (v) => (isIP(v as string) !== 0 ? undefined : 'must be a valid IPv4 or IPv6 address'),
  user_agent: (v) =>
    v === null || chars(v as string) <= MAX_USER_AGENT_CHARS ? undefined : `must be at most ${MAX_USER_AGENT_CHARS} characters`,
  rating: (v) => ((v as number) >= 1 && (v as number) <= 5 ? undefined : 'must be an integer from 1 to 5'),
  query: (v) => (chars(v as string) <= MAX_QUERY_CHARS ? undefined : `must be at most ${MAX_QUERY_CHARS} characters`),
  result_count: nonNegative,
  rank: nonNegative,
  group: name,
  previous_group: name,
  reason: name,
};
