import type { EventType } from '@tally/events';
import { counterKeys, type Metric } from '@tally/layout';

/** One counted effect of one event: which display value moves, and by how much. */
export interface CounterEffect {
  offset: string;
  eventId: string;
  metric: Metric;
  javId: number;
  delta: 1 | -1;
}

const EFFECT: Partial<Record<EventType, { metric: Metric; delta: 1 | -1 }>> = {
  'movie.viewed': { metric: 'views', delta: 1 },
  'movie.downloaded': { metric: 'downloads', delta: 1 },
  'movie.liked': { metric: 'likes', delta: 1 },
  'movie.unliked': { metric: 'likes', delta: -1 },
};

/** The event types whose topics the counter reads for counts. */
export const COUNTED_TYPES = Object.keys(EFFECT) as EventType[];
export const FEATURED_TYPES: EventType[] = ['featured.item.created', 'featured.item.updated', 'featured.item.removed'];

interface CountedValue {
  event_id: string;
  jav_id: number;
  is_bot: boolean;
  /** movie.viewed only: the ingest API's VIEW_DEDUP_WINDOW verdict. */
  repeat_view?: boolean;
}

/**
 * Counting rules: +1 view, +1 download, +1 like, −1 unlike. Crawlers (is_bot) are logged by the
 * event-logger but never counted: display counts are what people did. Nor are repeat views (the
 * same viewer's movie again within the ingest API's de-dup window): logged, not counted.
 */
export function effectOf(type: EventType, offset: string, value: CountedValue): CounterEffect | undefined {
  const e = EFFECT[type];
  if (!e || value.is_bot || value.repeat_view === true) return undefined;
  return { offset, eventId: value.event_id, metric: e.metric, javId: value.jav_id, delta: e.delta };
}

/** Cache keys a featured change invalidates: the whole list and the item's group (old and new on a move). */
export function featuredKeysToDelete(value: { group: string; previous_group?: string | null }): string[] {
  const keys = [counterKeys.featuredAll, counterKeys.featuredGroup(value.group)];
  if (value.previous_group && value.previous_group !== value.group) keys.push(counterKeys.featuredGroup(value.previous_group));
  return keys;
}
