import type { Consumer, ConsumerConfig, Kafka } from 'kafkajs';
import { errorMessage, type Logger } from '@tally/runtime';
import { backoffMs } from './backoff';

/** The kafkajs consumer settings every Tally consumer group uses. */
export function runnerConsumer(
  kafka: Kafka,
  o: { groupId: string; sessionTimeoutMs?: number; heartbeatIntervalMs?: number; maxChunk?: number },
): Consumer {
  const perPartition = Math.min(16 << 20, Math.max(256 << 10, (o.maxChunk ?? 500) * 256));
  const config: ConsumerConfig = {
    groupId: o.groupId,
    sessionTimeout: o.sessionTimeoutMs ?? 30_000,
    heartbeatInterval: o.heartbeatIntervalMs ?? 3_000,
    rebalanceTimeout: 60_000,
    allowAutoTopicCreation: false,
    // How long the broker holds a fetch that found nothing; data answers it at once, so this is no
    // latency. Each empty fetch of all assigned partitions leaves kafkajs ~0.7 MB of garbage: at
    // 250 ms an idle consumer allocated ~2.6 MB/s, too fast for V8 ever to shrink its young
    // generation (idle-memory.ts), 2 s makes it ~0.4 MB/s (idle RSS 125 → 95 MB, the counter). The
    // cost: a stop or a rebalance may wait up to 2 s for the fetch in flight (#19).
    maxWaitTimeInMs: 2_000,
    // Smaller fetches than kafkajs' 10 MB (1 MB a partition): a fetch is held in memory until each of
    // its chunks is applied. A partition's share is ~256 bytes per message of a chunk (events are
    // 130–300 bytes), at least 256 kB: MAX_CHUNK 1,000 still gets whole chunks. It took 25–40 MB
    // off the consumers' peak RSS in the consumers benchmark (#19).
    maxBytesPerPartition: perPartition,
    maxBytes: Math.max(2 << 20, 2 * perPartition),
    retry: { retries: 8, initialRetryTime: 300, maxRetryTime: 10_000 },
  };
  return kafka.consumer(config);
}

/**
 * Replaces a kafkajs consumer that gave up with a new one (`replace` disconnects the old one, makes
 * and runs the new one), retried with backoff until it runs or a shutdown begins.
 */
export async function recoverConsumer(
  replace: () => Promise<void>,
  stopping: () => boolean,
  log: Logger,
  delayMs: (attempt: number) => number = (attempt) => backoffMs(attempt, 1_000, 15_000),
): Promise<void> {
  for (let attempt = 0; !stopping(); attempt++) {
    await new Promise((r) => setTimeout(r, delayMs(attempt)));
    if (stopping()) return;
    try {
      await replace();
      log.warn({ attempt }, 'consumer recovered with a new client after kafkajs gave up');
      return;
    } catch (err) {
      log.warn({ attempt, err: errorMessage(err) }, 'consumer not recovered yet');
    }
  }
}

/**
 * A crash kafkajs will not restart from, caused only by the broker being away (stopped, restarting,
 * not yet accepting connections): worth a new client rather than a process exit.
 */
export function isBrokerUnreachable(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && typeof e === 'object' && depth < 5; depth++) {
    const { name, message } = e as { name?: string; message?: string };
    if (
      /^KafkaJS(Connection|ConnectionClosed|NoBrokerAvailable|BrokerNotFound|RequestTimeout|GroupCoordinatorNotFound|NumberOfRetriesExceeded)(Error)?$/.test(
        name ?? '',
      )
    )
      return true;
    if (/ECONNREFUSED|ECONNRESET|EPIPE|Closed connection|No brokers? available|coordinator is not available/i.test(message ?? ''))
      return true;
    e = (e as { cause?: unknown; originalError?: unknown }).originalError ?? (e as { cause?: unknown }).cause;
  }
  return false;
}
