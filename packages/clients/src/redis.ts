import Redis, { type RedisOptions } from 'ioredis';

export interface RedisSettings {
  url: string;
  /** Name shown by CLIENT LIST, so ops can tell which service holds a connection. */
  connectionName?: string;
}

/**
 * ioredis with a bounded offline queue: during an outage commands fail fast (and the consumer runner
 * retries the batch) instead of piling up in memory.
 */
export function createRedis(s: RedisSettings, extra: RedisOptions = {}): Redis {
  return new Redis(s.url, {
    connectionName: s.connectionName,
    maxRetriesPerRequest: 3,
    enableOfflineQueue: true,
    retryStrategy: (times) => Math.min(times * 200, 2_000),
    ...extra,
  });
}
