import type { Knex } from 'knex';
import type { EventType, TopicNames } from '@tally/events';
import { eventValidator, type SinkBinding } from '@tally/kafka';
import type { ServiceMetrics } from '@tally/runtime';
import { type Catalog } from '@tally/catalog';
import { HISTORY_TYPES, type HistoryKind, type HistoryMessage } from './handler';
import { ForgottenSet, skippingForgotten } from '@tally/privacy';
import { HistorySink } from './sink';

const KINDS: Record<HistoryKind, EventType> = { view: 'movie.viewed', download: 'movie.downloaded' };

/**
 * Views and downloads into user_jav_history; shared by the service and `tally replay --sink history`.
 * `progressGroup` keys the sink's progress in consumer_progress: a replay into the live tables uses
 * the live group's, so what the service applied is skipped.
 */
export function historyBinding(
  db: Knex,
  names: TopicNames,
  progressGroup: string,
  metrics: ServiceMetrics,
  catalog: Catalog,
): SinkBinding<HistoryMessage> {
  const kindByTopic = new Map<string, HistoryKind>(
    (Object.entries(KINDS) as [HistoryKind, EventType][]).map(([kind, type]) => [names.topicFor(type), kind]),
  );
  const kindOf = (topic: string): HistoryKind => {
    const kind = kindByTopic.get(topic);
    if (!kind) throw new Error(`history does not consume ${topic}`);
    return kind;
  };
  const sink = new HistorySink(db, progressGroup, kindOf, metrics, catalog);
  const skipped = metrics.counter(
    'events_skipped_total',
    'Events without effect: guest, or already applied (offset ≤ progress, or event_id seen)',
    ['topic', 'why'],
  );
  return skippingForgotten(
    { topics: [...kindByTopic.keys()], validate: eventValidator(names, HISTORY_TYPES), handle: (batch) => sink.apply(batch) },
    new ForgottenSet(db),
    (e) => e.payload,
    (topic, n) => skipped.inc({ topic, why: 'forgotten' }, n),
  );
}
