import { EVENT_TYPES, type EventPayloads, type EventType, type TallyEvent } from './generated/events';
import { validateEvent, type EventOf } from './validate';

/** 2025-03-14T09:26:53.589Z: the server clock of every sample. */
const RECEIVED = Date.UTC(2025, 2, 14, 9, 26, 53, 589);

function envelope(n: number, userId: number | null) {
  return {
    event_id: `3f2c7b9e-8d4a-4c1e-9f6b-${String(n).padStart(12, '0')}`,
    occurred_at: RECEIVED - 1_250,
    sent_at: RECEIVED - 900,
    received_at: RECEIVED,
    user_id: userId,
    ip: userId === null ? '2001:db8::7:1' : '203.0.113.42',
    user_agent: 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0',
    is_bot: false,
  };
}

const featured = (n: number) => ({
  ...envelope(n, 7),
  item_type: 'actor' as const,
  item_id: 311,
  group: 'homepage-hero',
  rank: 2,
  active: true,
  expires_at: RECEIVED + 7 * 86_400_000,
  admin_user_id: 7,
});

/**
 * A realistic, valid value of every event type (fresh objects on each call, so tests may mutate them).
 * Half are guests (user_id null, IPv6) to keep that path covered wherever samples are used.
 */
export function sampleEvents(): { [T in EventType]: EventPayloads[T] } {
  return {
    'movie.viewed': { ...envelope(1, null), jav_id: 48213, repeat_view: false },
    'movie.downloaded': { ...envelope(2, 1024), jav_id: 48213 },
    'movie.rated': { ...envelope(3, 1024), jav_id: 48213, rating: 4 },
    'movie.liked': { ...envelope(4, null), jav_id: 48213 },
    'movie.unliked': { ...envelope(5, 1024), jav_id: 48213 },
    'movie.watchlisted': { ...envelope(6, 1024), jav_id: 5120 },
    'movie.unwatchlisted': { ...envelope(7, null), jav_id: 5120 },
    'actor.viewed': { ...envelope(8, 1024), actor_id: 311 },
    'tag.viewed': { ...envelope(9, null), tag_id: 27 },
    'search.performed': {
      ...envelope(10, 1024),
      query: 'uncensored 2021 remaster',
      filters: { year: '2021', studio: 'S1' },
      entity_type: 'movie',
      result_count: 38,
    },
    'recommendation.clicked': { ...envelope(11, null), jav_id: 5120, reason: 'same_actor' },
    'featured.item.created': featured(12),
    'featured.item.updated': { ...featured(13), group: 'weekly-picks', previous_group: 'homepage-hero', rank: 0 },
    'featured.item.removed': { ...featured(14), active: false, expires_at: null },
  };
}

/**
 * One event of `type` as a consumer receives it (`{ type, payload }`): the sample with `over` on top,
 * put through validateEvent, so a test's event is one the pipeline would accept (it throws otherwise).
 */
export function sampleEvent<T extends EventType>(type: T, over: Partial<EventPayloads[T]> = {}): EventOf<T> {
  const r = validateEvent(type, { ...sampleEvents()[type], ...over });
  if (!r.ok) throw new Error(`sample ${type} is invalid: ${r.errors.map((e) => `${e.field} ${e.reason}`).join('; ')}`);
  return r.event;
}

/** The envelope every schema starts with (envelope.test keeps the schemas to it). */
const ENVELOPE_FIELDS = new Set(['event_id', 'occurred_at', 'sent_at', 'received_at', 'user_id', 'ip', 'user_agent', 'is_bot']);

/**
 * The sample's own fields (all but the envelope): what a test writes for an event type it has no
 * special expectation for, so a new logged-only type needs no entry in each test's table.
 */
export function sampleOwnFields(type: EventType): Record<string, unknown> {
  return Object.fromEntries(Object.entries(sampleEvents()[type]).filter(([k]) => !ENVELOPE_FIELDS.has(k)));
}

/** The samples as tagged events, in catalog order. */
export function sampleTallyEvents(): TallyEvent[] {
  return EVENT_TYPES.map((type) => sampleEvent(type));
}
