import type Redis from 'ioredis';
import type { Knex } from 'knex';
import { validateEvent, type TopicNames } from '@tally/events';
import type { SinkBinding } from '@tally/kafka';
import type { Logger } from '@tally/runtime';
import { type Catalog, type CatalogPart } from '@tally/catalog';
import { COUNTED_TYPES, FEATURED_TYPES } from './handler';
import { ForgottenSet, skippingForgotten } from '@tally/privacy';
import { CounterSink } from './sink';

export type CounterEvent = Record<string, unknown> & { event_id: string };

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
  const binding: SinkBinding<CounterEvent> = {
    topics: [...COUNTED_TYPES, ...FEATURED_TYPES].map((t) => names.topicFor(t)),
    validate: (topic, value) => {
      const r = validateEvent(names.eventTypeFor(topic) ?? topic, value);
      return r.ok
        ? { ok: true, value: r.event.payload as unknown as CounterEvent }
        : { ok: false, reason: 'invalid_payload', detail: r.errors.map((e) => `${e.field} ${e.reason}`).join('; ') };
    },
    handle: (batch) => sink.handle(batch),
    // A chunk of poison only still moves the counter's progress, so the next chunk is not a gap.
    handleEmptyChunks: true,
    resumeFrom: (topic, partition) => sink.resumeFrom(topic, partition),
  };
  // A forgotten person's late or replayed events move no count and leave no state (tally forget).
  return skippingForgotten(binding, new ForgottenSet(db), (e) => ({ user_id: e.user_id as number | null, ip: e.ip as string }));
}

/** The app's tables the counter reads (movie counts, for seeding display keys). */
export const COUNTER_PARTS: CatalogPart[] = ['movies'];
