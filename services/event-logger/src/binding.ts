import type { Knex } from 'knex';
import type { TallyEvent, TopicNames } from '@tally/events';
import { eventValidator, type SinkBinding } from '@tally/kafka';
import type { Logger, ServiceMetrics } from '@tally/runtime';
import { ForgottenSet, skippingForgotten } from '@tally/privacy';
import { RawLogSink } from './sink';

/** Every event topic into its raw log table; shared by the service and `tally replay --sink event-logger`. */
export function eventLoggerBinding(db: Knex, names: TopicNames, logger: Logger, metrics: ServiceMetrics): SinkBinding<TallyEvent> {
  const sink = new RawLogSink(db, logger, metrics);
  const forgotten = metrics.counter('events_forgotten_total', 'Events of forgotten people, skipped (tally forget)', ['topic']);
  const binding: SinkBinding<TallyEvent> = {
    topics: [...names.eventTopics],
    validate: eventValidator(names),
    handle: (batch) => sink.handle(batch),
  };
  return skippingForgotten(
    binding,
    new ForgottenSet(db),
    (e) => e.payload,
    (topic, n) => forgotten.inc({ topic }, n),
  );
}
