import { z } from 'zod';
import { durationMs, loadConfig } from '@tally/config';
import { jobConfigSchema } from '@tally/jobs';

export const esSyncConfigSchema = jobConfigSchema({ managementPort: 9105, schedule: '0 * * * *' }).extend({
  // Prepended to every index and alias name (and to the watermark names, which describe one set of
  // indices): lets tests, benchmarks or a second environment share one cluster. Lower case only,
  // as Elasticsearch requires of index names.
  ES_INDEX_PREFIX: z.string().regex(/^[a-z0-9_-]*$/, 'may contain only lower-case letters, digits, "_" and "-"').default(''),
  // Documents per _bulk request (and MySQL rows per keyset page). 1,000 partial updates ≈ 90 KB of
  // NDJSON: well under http.max_content_length (100 MB) and large enough that per-request overhead
  // is small (bench/src/es-sync.ts measures the rate against a raw _bulk of the same size).
  BULK_SIZE: z.coerce.number().int().min(1).max(10_000).default(1_000),
  // In-run retries of bulk items that failed for a transient reason (429, 409, 5xx); items that still
  // fail hold the watermark, so the next run retries them again.
  ITEM_RETRIES: z.coerce.number().int().min(0).max(10).default(3),
  RETRY_BACKOFF: durationMs().default('500ms'),
  // Rows stamped less than this long ago are left to the next run. The flusher stamps
  // counts_updated_at = NOW(3) inside its transaction, i.e. before it commits: a transaction still
  // open while we read could commit rows stamped *below* the watermark we are about to store, and
  // they would never be read. The lag must exceed the flusher's longest transaction.
  SETTLE_LAG: durationMs().default('60s'),
  // Replicas of the indices --reindex creates: 0 on the single-node local stack (1 would stay yellow).
  ES_INDEX_REPLICAS: z.coerce.number().int().min(0).max(5).default(0),
});
export type EsSyncConfig = z.infer<typeof esSyncConfigSchema>;

export function loadEsSyncConfig(env?: Record<string, string | undefined>): Readonly<EsSyncConfig> {
  return loadConfig(esSyncConfigSchema, env);
}
