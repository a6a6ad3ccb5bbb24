import { validateEvent, type EventOf, type EventType, type TopicNames } from '@tally/events';
import type { Validation } from './runner';

/**
 * Why a consumed event is refused: the one dead-letter reason for a value that decodes but fails its
 * schema or the domain rules (tests, `tally dlq` and the runbooks match on it); the field-level
 * wording goes in the detail.
 */
export const INVALID_PAYLOAD = 'invalid_payload';

/**
 * The runner's `validate` for every consumer of event topics: the value decoded from a topic must
 * satisfy its event type's schema and domain rules (the ingest API's own check), and reaches the sink
 * as the generated `{ type, payload }` event. With `types`, only those event types' topics are
 * accepted and the result is narrowed to them, so a sink switches on `event.type` without casts.
 */
export function eventValidator(names: TopicNames): (topic: string, value: unknown, writer?: unknown) => Validation<EventOf<EventType>>;
export function eventValidator<T extends EventType>(
  names: TopicNames,
  types: readonly T[],
): (topic: string, value: unknown, writer?: unknown) => Validation<EventOf<T>>;
export function eventValidator(
  names: TopicNames,
  types?: readonly EventType[],
): (topic: string, value: unknown, writer?: unknown) => Validation<EventOf<EventType>> {
  const accepted = types === undefined ? undefined : new Set<EventType>(types);
  return (topic, value, writer) => {
    const type = names.eventTypeFor(topic);
    if (type === undefined || (accepted !== undefined && !accepted.has(type))) {
      return { ok: false, reason: 'unknown_topic', detail: `${topic} is not a topic this consumer reads under prefix '${names.prefix}'` };
    }
    const r = validateEvent(type, value, { writer });
    if (r.ok) return { ok: true, value: r.event };
    return { ok: false, reason: INVALID_PAYLOAD, detail: r.errors.map((e) => `${e.field} ${e.reason}`).join('; ') };
  };
}
