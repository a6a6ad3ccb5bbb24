import { z } from 'zod';
import { loadConfig, mysqlPoolSize, partitionConcurrency } from '@tally/config';
import { withManagementPort } from '@tally/runtime';

export const counterConfigSchema = withManagementPort(9102).extend({
  GROUP_ID: z.string().min(1).default('tally-counter'),
  // A client's retry of the same event (same event_id, another offset) within this window counts once.
  // Cost: one Redis key per counted event for the window (~90 bytes): at 1,000 events/s, 10 min ≈ 55 MB.
  DEDUP_WINDOW_SECONDS: z.coerce.number().int().min(1).default(600),
  MAX_CHUNK: z.coerce.number().int().min(1).max(10_000).default(1_000),
  PARTITION_CONCURRENCY: partitionConcurrency(3),
  MYSQL_POOL_SIZE: mysqlPoolSize().default(4),
});

export function loadCounterConfig(env?: Record<string, string | undefined>) {
  return loadConfig(counterConfigSchema, env);
}
