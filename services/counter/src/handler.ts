import type { EventOf, EventType } from '@tally/events';
import { DEFAULT_APP_KEYS, type AppKeys, type Metric } from '@tally/layout';

/** One counted effect of one event: which display value moves, and by how much. */
export interface CounterEffect {
  offset: string;
  eventId: string;
  metric: Metric;
  javId: number;
  delta: number;
}

const EFFECT: Partial<Record<EventType, { metric: Metric; delta: 1 }>> = {
  'movie.viewed': { metric: 'views', delta: 1 },
  'movie.downloaded': { metric: 'downloads', delta: 1 },
};

/**
 * Per-user facets: the figure is about users in a state, not a sum of events. A `flag` facet (like,
 * watchlist) moves its one figure by new − old (0/1); a `rating` moves the count of raters by whether
 * the user had / has a rating and the sum of stars by new − old, so average = rating_sum / rating_count.
 */
export type Facet = 'like' | 'rating' | 'watchlist';
export type FacetKind = 'flag' | 'rating';
const FACETS: Record<Facet, { kind: FacetKind; metrics: readonly Metric[] }> = {
  like: { kind: 'flag', metrics: ['likes'] },
  watchlist: { kind: 'flag', metrics: ['watchlists'] },
  rating: { kind: 'rating', metrics: ['rating_count', 'rating_sum'] },
};
const STATE: Partial<Record<EventType, { facet: Facet; value: (v: StateValue) => number }>> = {
  'movie.liked': { facet: 'like', value: () => 1 },
  'movie.unliked': { facet: 'like', value: () => 0 },
  'movie.watchlisted': { facet: 'watchlist', value: () => 1 },
  'movie.unwatchlisted': { facet: 'watchlist', value: () => 0 },
  'movie.rated': { facet: 'rating', value: (v) => Number(v.rating) },
};

/** The event types whose topics the counter reads for counts. */
export const COUNTED_TYPES = [...Object.keys(EFFECT), ...Object.keys(STATE)] as EventType[];

/**
 * One user's change of a per-user facet: it moves the figures only when it is the user's latest
 * change by (occurred_at, event_id) and differs from the state before it.
 */
export interface StateEffect {
  offset: string;
  facet: Facet;
  kind: FacetKind;
  /** The figures it moves: one for a flag, [count, sum] for a rating. */
  metrics: readonly Metric[];
  javId: number;
  userId: number;
  /** 1/0 for a flag, the stars (1–5) for a rating. */
  value: number;
  /** occurred_at, epoch ms. */
  at: number;
  /** Lower-cased: the tie-breaker compares it as text, as MySQL's ascii_general_ci would. */
  eventId: string;
}

/** A stored state: `at|eventId|value`; no state yet = NO_STATE (value 0, older than any event). */
export const NO_STATE = '0||0';
export const stateText = (s: { at: number; eventId: string | null; value: number }): string => `${s.at}|${s.eventId ?? ''}|${s.value}`;

interface StateValue {
  event_id: string;
  jav_id: number;
  user_id: number | null;
  occurred_at: number;
  is_bot: boolean;
  rating?: number;
}

/**
 * Likes, ratings and watchlists are per user: a like by a user who already likes the movie, or an
 * unlike by one who does not, changes nothing; a second rating replaces the first; the latest change
 * by occurred_at wins whatever order the topics deliver. Guests have no identity to hold a state (the
 * app's interactions need a user too): not counted.
 */
export function stateEffectOf(type: EventType, offset: string, value: StateValue): StateEffect | undefined {
  const s = STATE[type];
  if (!s || value.is_bot || value.user_id === null) return undefined;
  const f = FACETS[s.facet];
  return {
    offset,
    facet: s.facet,
    kind: f.kind,
    metrics: f.metrics,
    javId: value.jav_id,
    userId: value.user_id,
    value: s.value(value),
    at: value.occurred_at,
    eventId: value.event_id.toLowerCase(),
  };
}

export const isStateType = (type: EventType): boolean => STATE[type] !== undefined;
export const FEATURED_TYPES = [
  'featured.item.created',
  'featured.item.updated',
  'featured.item.removed',
] as const satisfies readonly EventType[];

/** What the counter's sink receives: the generated `{ type, payload }` of any event type it reads. */
export type CounterEvent = EventOf<EventType>;

interface CountedValue {
  event_id: string;
  jav_id: number;
  is_bot: boolean;
  /** movie.viewed only: the ingest API's VIEW_DEDUP_WINDOW verdict. */
  repeat_view?: boolean;
}

/**
 * Counting rules: +1 view, +1 download (likes, ratings, watchlists: stateEffectOf). Crawlers (is_bot)
 * are logged by the event-logger but never counted: display counts are what people did. Nor are
 * repeat views (the same viewer's movie again within the ingest API's de-dup window): logged, not counted.
 */
export function effectOf(type: EventType, offset: string, value: CountedValue): CounterEffect | undefined {
  const e = EFFECT[type];
  if (!e || value.is_bot || value.repeat_view === true) return undefined;
  return { offset, eventId: value.event_id, metric: e.metric, javId: value.jav_id, delta: e.delta };
}

/** Cache keys a featured change invalidates: the whole list and the item's group (old and new on a move). */
export function featuredKeysToDelete(value: { group: string; previous_group?: string | null }, keys: AppKeys = DEFAULT_APP_KEYS): string[] {
  const out = [keys.featuredAll, keys.featuredGroup(value.group)];
  if (value.previous_group && value.previous_group !== value.group) out.push(keys.featuredGroup(value.previous_group));
  return out;
}
