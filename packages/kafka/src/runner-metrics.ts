import type { ServiceMetrics } from '@tally/runtime';

/** The consumer metrics every Tally consumer exports (names documented in docs/operations.md). */
export function createRunnerMetrics(m: ServiceMetrics) {
  return {
    consumed: m.counter('messages_consumed_total', 'Messages fetched from Kafka', ['topic']),
    processed: m.counter('messages_processed_total', 'Messages whose effect is durable and offset committed', ['topic']),
    deadLettered: m.counter('messages_dead_lettered_total', 'Messages sent to the dead-letter topic', ['topic', 'reason']),
    reprocessed: m.counter(
      'messages_reprocessed_total',
      'Messages seen again after their effect was applied (redelivery; skipped by idempotent sinks)',
      ['topic'],
    ),
    retries: m.counter('consumer_retries_total', 'Retried steps (transient errors)', ['topic', 'step', 'code']),
    rebalances: m.counter('consumer_rebalances_total', 'Consumer group rebalances seen by this member'),
    recoveries: m.counter('consumer_recoveries_total', 'New Kafka clients started after the old one gave up on an unreachable broker'),
    batchSeconds: m.histogram(
      'consumer_batch_duration_seconds',
      'Time to process and commit one chunk',
      ['topic'],
      [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    ),
    lag: m.gauge('consumer_lag_messages', 'High watermark minus committed offset, per partition', ['topic', 'partition']),
    freshness: m.histogram(
      'event_freshness_seconds',
      'now − received_at when an event is processed',
      ['topic'],
      [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300],
    ),
  };
}
export type RunnerMetrics = ReturnType<typeof createRunnerMetrics>;
