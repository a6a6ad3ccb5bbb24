import { Kafka, logLevel, type LogEntry } from 'kafkajs';
import type { Logger } from '@tally/runtime';

const LEVELS: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/** kafkajs logs through the service's pino logger, so every line is JSON with the service name. */
export function createKafka(opts: { brokers: readonly string[]; clientId: string; logger: Logger; connectionTimeoutMs?: number }): Kafka {
  const log = opts.logger.child({ component: 'kafkajs' });
  return new Kafka({
    clientId: opts.clientId,
    brokers: [...opts.brokers],
    connectionTimeout: opts.connectionTimeoutMs ?? 3_000,
    requestTimeout: 10_000,
    // kafkajs' own retries for metadata/connection; the runner and the producer add their own policy.
    retry: { initialRetryTime: 200, retries: 5, maxRetryTime: 5_000 },
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ level, log: entry }: LogEntry) => {
        const { message, ...rest } = entry;
        log[LEVELS[level] ?? 'info'](rest, message);
      },
  });
}
