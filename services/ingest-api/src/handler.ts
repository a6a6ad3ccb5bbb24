import { eventDefinition, isEventType, validateEvent, type FieldError, type TallyEvent } from '@tally/events';
import { TallyError } from '@tally/runtime';
import type { WriteKey } from './auth';
import { enrich, type Enriched, type RequestContext } from './enrich';
import { USER_TOKEN_HEADER, USER_TOKEN_PATTERN } from './openapi';

const USER_TOKEN = new RegExp(USER_TOKEN_PATTERN);

export interface IndexedError extends FieldError {
  index: number;
}

export interface Accepted {
  index: number;
  event: TallyEvent;
  /** 'guest' for a guest, and for a browser's user_id without proof (then `guest` says why). */
  identity: 'user' | 'guest';
  guest?: Enriched['guest'];
}

export interface Intake {
  accepted: Accepted[];
  errors: IndexedError[];
  /** Events refused only because this key may not send their type. */
  forbidden: number;
}

export interface IntakeContext extends Omit<RequestContext, 'key'> {
  key: Pick<WriteKey, 'kind' | 'allowed'>;
}

/**
 * `{"events":[…], "user_token"?: "…"}` or one event object; anything else is a 400 naming what was
 * expected. The token (a browser's proof of its user, see user-token.ts, read by userTokenOf) may
 * also come as the X-Tally-User-Token header; sendBeacon cannot set headers, hence the body field.
 */
export function eventsOf(body: unknown, maxEvents: number): unknown[] {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new TallyError('BODY_INVALID', 'body must be a JSON object: one event, or {"events": [...]}', { httpStatus: 400 });
  }
  if (!('events' in body)) return [body];
  const { events, user_token: _token, ...others } = body as { events: unknown; user_token?: unknown };
  const unknown = Object.keys(others);
  if (unknown.length > 0) {
    throw new TallyError('BODY_INVALID', `${unknown.join(', ')}: not a field of a batch, which has only "events" and "user_token"`, {
      httpStatus: 400,
    });
  }
  if (!Array.isArray(events)) throw new TallyError('BODY_INVALID', 'events must be an array of event objects', { httpStatus: 400 });
  if (events.length === 0) throw new TallyError('BODY_INVALID', 'events must not be empty', { httpStatus: 400 });
  if (events.length > maxEvents) {
    throw new TallyError('TOO_MANY_EVENTS', `events has ${events.length} items; at most ${maxEvents} per request`, { httpStatus: 413 });
  }
  return events;
}

/**
 * The batch's user_token, else the header's; a malformed one is a 400 naming where it came from (the
 * document's pattern), an absent one undefined. Checking what it proves is the auth step's business.
 */
export function userTokenOf(body: unknown, headers: Record<string, string | string[] | undefined>): string | undefined {
  const inBody = body !== null && typeof body === 'object' && 'events' in body ? (body as { user_token?: unknown }).user_token : undefined;
  const header = headers[USER_TOKEN_HEADER];
  for (const [where, token] of [
    ['user_token', inBody],
    ['X-Tally-User-Token', header],
  ] as const) {
    if (token === undefined) continue;
    if (typeof token !== 'string' || !USER_TOKEN.test(token)) {
      throw new TallyError('USER_TOKEN_INVALID', `${where} must be v1.<user_id>.<expires>.<signature> (${USER_TOKEN_PATTERN})`, {
        httpStatus: 400,
      });
    }
  }
  return (inBody as string | undefined) ?? (header as string | undefined);
}

/**
 * Validates and enriches each event on its own: one bad event never costs the valid ones around it.
 * Errors name the event's index, the field and the reason.
 */
export function intake(events: unknown[], ctx: IntakeContext): Intake {
  const out: Intake = { accepted: [], errors: [], forbidden: 0 };
  events.forEach((raw, index) => {
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      out.errors.push({ index, field: '(event)', reason: 'must be an object with a "type" and the fields of that event' });
      return;
    }
    const type = (raw as { type?: unknown }).type;
    if (typeof type !== 'string') {
      out.errors.push({ index, field: 'type', reason: type === undefined ? 'is required' : 'must be a string naming the event type' });
      return;
    }
    if (isEventType(type) && !ctx.key.allowed.has(type)) {
      const why =
        ctx.key.kind === 'browser' && eventDefinition(type).server_only
          ? 'it is an admin event and needs a server key (browser keys are public)'
          : "it is not in this key's KEY_EVENT_TYPES";
      out.errors.push({ index, field: 'type', reason: `'${type}' may not be sent with this key: ${why}` });
      out.forbidden++;
      return;
    }
    const { record, errors, guest } = enrich(raw as Record<string, unknown>, ctx);
    const result = validateEvent(type, record);
    const all = [...errors, ...(result.ok ? [] : result.errors)];
    if (all.length > 0 || !result.ok) {
      const seen = new Set<string>();
      for (const e of all) {
        const k = `${e.field}\u0000${e.reason}`;
        if (!seen.has(k)) out.errors.push({ index, ...e, ...(e.field === 'event_type' ? { field: 'type' } : {}) });
        seen.add(k);
      }
      return;
    }
    if (guest) result.event.payload.user_id = null;
    out.accepted.push({
      index,
      event: result.event,
      identity: result.event.payload.user_id === null ? 'guest' : 'user',
      ...(guest ? { guest } : {}),
    });
  });
  return out;
}
