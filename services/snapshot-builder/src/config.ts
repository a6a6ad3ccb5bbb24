import { z } from 'zod';
import { durationMs, loadConfig, mysqlPoolSize } from '@tally/config';
import { jobConfigSchema } from '@tally/jobs';

export const snapshotBuilderConfigSchema = jobConfigSchema({ managementPort: 9106, schedule: '*/30 * * * *' }).extend({
  // Longest the dead-letter copy may read before the build goes on with what it has (its position is
  // stored per batch, so the next run continues where this one stopped).
  MYSQL_POOL_SIZE: mysqlPoolSize().default(6),
  DLQ_COPY_TIMEOUT: durationMs().default('60s'),
  // Each run reads the dead-letter topic under a fresh group id (positions live in MySQL, not in
  // Kafka), so a SIGKILLed run's group member never delays the next run's join.
  DLQ_GROUP_PREFIX: z.string().min(1).default('tally-snapshot-builder-dlq'),
});
export type SnapshotBuilderConfig = z.infer<typeof snapshotBuilderConfigSchema>;

export function loadSnapshotBuilderConfig(env?: Record<string, string | undefined>): Readonly<SnapshotBuilderConfig> {
  return loadConfig(snapshotBuilderConfigSchema, env);
}
