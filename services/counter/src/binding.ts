import type Redis from 'ioredis';
import type { Knex } from 'knex';
import type { TopicNames } from '@tally/events';
import { eventValidator, type SinkBinding } from '@tally/kafka';
import type { Logger } from '@tally/runtime';
import { type Catalog, type CatalogPart } from '@tally/catalog';
import { COUNTED_TYPES, FEATURED_TYPES, type CounterEvent } from './handler';
import { ForgottenSet, skippingForgotten } from '@tally/privacy';
import { CounterSink } from './sink';

export type { CounterEvent } from './handler';

/** Counted and featured topics into Redis, exactly once; shared by the service and `tally replay --sink counter`. */
export function counterBinding(
  redis: Redis,
  db: Knex,
  names: TopicNames,
  opts: { dedupTtlSeconds: number },
  logger: Logger,
  catalog: Catalog,
): SinkBinding<CounterEvent> {
  const sink = new CounterSink(redis, db, names, opts, logger, catalog);
  const types = [...COUNTED_TYPES, ...FEATURED_TYPES];
  const binding: SinkBinding<CounterEvent> = {
    topics: types.map((t) => names.topicFor(t)),
    validate: eventValidator(names, types),
    handle: (batch) => sink.handle(batch),
    // A chunk of poison only still moves the counter's progress, so the next chunk is not a gap.
    handleEmptyChunks: true,
    resumeFrom: (topic, partition) => sink.resumeFrom(topic, partition),
  };
  // A forgotten person's late or replayed events move no count and leave no state (tally forget).
  return skippingForgotten(binding, new ForgottenSet(db), (e) => e.payload);
}

/** The app's tables the counter reads (movie counts, for seeding display keys). */
export const COUNTER_PARTS: CatalogPart[] = ['movies'];
