import { randomUUID } from 'node:crypto';
import {
  CLIENT_TIME_FIELDS,
  MIN_TIME_MS,
  SERVER_KEY_ONLY_FIELDS as SERVER_ONLY_FIELDS,
  SERVER_SET_FIELDS,
  parseClientTime,
  type FieldError,
} from '@tally/events';
import type { WriteKey } from './auth';
import type { TokenCheck, TokenProblem } from './user-token';

/** What the server knows about the request an event came in. */
export interface RequestContext {
  key: Pick<WriteKey, 'kind'>;
  /** The request's user token, checked once on first use (only browser events with a user_id need it). */
  userProof: () => TokenCheck;
  ip: string;
  userAgent: string | null;
  receivedAt: number;
  isBot: (ua: string) => boolean;
  anonymizeIp: boolean;
}

// SERVER_SET_FIELDS: a client value would be a lie about the server's own clock or verdicts
// (repeat_view: a client could otherwise exempt its views from the de-dup window, or void others').

/** Drops the host part: IPv4 → last octet 0 (a /24); IPv6 → first 48 bits kept (a /48). */
export function anonymizeIp(ip: string): string {
  if (ip.includes('.') && !ip.includes(':')) return ip.replace(/\.\d+$/, '.0');
  if (ip.startsWith('::ffff:')) return '::ffff:' + anonymizeIp(ip.slice(7));
  const [head] = ip.split('::');
  const groups = (head ?? '').split(':').filter(Boolean).slice(0, 3);
  return `${groups.join(':')}::`;
}

/**
 * Turns what a client sent into the Avro record of its event type: server fields filled in, client
 * clock skew corrected (occurred_at shifted by received_at − sent_at), ids assigned when missing.
 * Returns field errors for what only the server may set; the schema and domain rules are checked
 * afterwards by validateEvent, the same function the consumers use.
 */
export interface Enriched {
  record: Record<string, unknown>;
  errors: FieldError[];
  /** Set when a browser's user_id was not proven: the event is to be kept as a guest's, and this says why. */
  guest?: { notice: FieldError; problem: TokenProblem };
}

export function enrich(raw: Record<string, unknown>, ctx: RequestContext): Enriched {
  const errors: FieldError[] = [];
  const { type: _type, ...fields } = raw;
  for (const f of SERVER_SET_FIELDS) {
    if (f in fields) errors.push({ field: f, reason: 'is set by the server and must not be sent' });
  }
  if (ctx.key.kind === 'browser') {
    for (const f of SERVER_ONLY_FIELDS) if (f in fields) errors.push({ field: f, reason: 'may only be sent with a server key' });
  }
  const times: Partial<Record<(typeof CLIENT_TIME_FIELDS)[number], number>> = {};
  for (const f of CLIENT_TIME_FIELDS) {
    if (fields[f] === undefined || fields[f] === null) continue;
    const t = parseClientTime(fields[f]);
    if (t === undefined)
      errors.push({
        field: f,
        reason: 'must be an ISO-8601 date-time with a zone, 2000 to 2099 (2026-11-26T12:00:00Z), or integer epoch milliseconds',
      });
    // The bound holds for the time as sent too, not only after the skew correction moved it.
    else if (t < MIN_TIME_MS)
      errors.push({ field: f, reason: `must be epoch milliseconds not before ${new Date(MIN_TIME_MS).toISOString()}` });
    else times[f] = t;
  }
  const sentAt = times.sent_at ?? null;
  const skew = sentAt === null ? 0 : ctx.receivedAt - sentAt;
  // A server key's ip is taken as sent (a wrong type is then a field error), never silently replaced.
  const ip = ctx.key.kind === 'server' && 'ip' in fields ? fields.ip : ctx.ip;
  const userAgent = ctx.key.kind === 'server' && 'user_agent' in fields ? fields.user_agent : ctx.userAgent;
  // Object.assign and plain stores, not `{ ...fields, event_id: … }`: V8 (Node 20) builds that
  // literal in ~7 µs per event here against ~0.1 µs for this, the largest single cost of enrich
  // when profiled (#19). Same keys, same values.
  const record: Record<string, unknown> = Object.assign({}, fields);
  record.event_id = fields.event_id ?? randomUUID();
  record.occurred_at = (times.occurred_at ?? sentAt ?? ctx.receivedAt) + skew;
  record.sent_at = sentAt;
  record.received_at = ctx.receivedAt;
  record.user_id = fields.user_id ?? null;
  record.ip = ctx.anonymizeIp && typeof ip === 'string' ? anonymizeIp(ip) : ip;
  record.user_agent = userAgent ?? null;
  record.is_bot = typeof userAgent === 'string' && ctx.isBot(userAgent);
  // Applied after validation (handler.ts): a user_id that is not a valid id is reported as such first.
  const guest = ctx.key.kind === 'browser' ? unproven(record.user_id, ctx) : undefined;
  return { record, errors, ...(guest ? { guest } : {}) };
}

/**
 * A browser key is public, so its user_id is a claim until the app's signed token proves it: without
 * proof the event still counts, as a guest's (ip and user agent), and the answer says why. A user_id
 * that is not even an id is left for validation to report.
 */
function unproven(userId: unknown, ctx: RequestContext): Enriched['guest'] {
  if (!Number.isSafeInteger(userId) || (userId as number) <= 0) return undefined;
  const proof = ctx.userProof();
  if (proof.ok && proof.userId === userId) return undefined;
  const [problem, why] = proof.ok ? (['other_user', `user_token is for user ${proof.userId}`] as const) : [proof.problem, proof.reason];
  return {
    problem,
    notice: { field: 'user_id', reason: `was not counted as user ${String(userId)}: ${why}; the event is kept as a guest's` },
  };
}
