import { z } from 'zod';
import { loadConfig, mysqlPoolSize, partitionConcurrency } from '@tally/config';
import { withManagementPort } from '@tally/runtime';

export const historyConfigSchema = withManagementPort(9103).extend({
  // consumer_progress is keyed by it: a new group id starts history over from the topics' beginning.
  GROUP_ID: z.string().min(1).default('tally-history'),
  // Messages per transaction. 1,000: one multi-row upsert per chunk; the offset in consumer_progress
  // moves per chunk, so this is also the most a crash makes the next owner skip by offset.
  MAX_CHUNK: z.coerce.number().int().min(1).max(10_000).default(1_000),
  // Partitions processed in parallel by one process (each with its own MySQL transaction).
  PARTITION_CONCURRENCY: partitionConcurrency(4),
  // Unset: one connection per concurrent partition plus one spare (PARTITION_CONCURRENCY + 1).
  MYSQL_POOL_SIZE: mysqlPoolSize().optional(),
});
export type HistoryConfig = z.infer<typeof historyConfigSchema>;

export function loadHistoryConfig(env?: Record<string, string | undefined>): Readonly<HistoryConfig> {
  return loadConfig(historyConfigSchema, env);
}
