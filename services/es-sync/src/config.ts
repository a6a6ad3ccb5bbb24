import { z } from 'zod';
import { ConfigError, durationMs, esIndexPrefix, loadConfig, mysqlPoolSize } from '@tally/config';
import { jobConfigSchema } from '@tally/jobs';
import { MOVIE_FIELDS } from './indices';
import type { CountFields, SearchTarget } from './target';

export const esSyncConfigSchema = jobConfigSchema({ managementPort: 9105, schedule: '0 * * * *' }).extend({
  // Also prepended to the watermark names, which describe one set of indices.
  ES_INDEX_PREFIX: esIndexPrefix(),
  MYSQL_POOL_SIZE: mysqlPoolSize().default(4),
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

/** Where each count's field is named, for error messages: the catalog mapping's path. */
export const COUNT_FIELD_PATHS = {
  views: 'search.movies.countFields.views',
  downloads: 'search.movies.countFields.downloads',
  likes: 'search.movies.countFields.likes',
} as const;

/**
 * The target of the catalog mapping (its `search` section), checked against es-sync's own index: a
 * count field may not be a field es-sync's movie index uses for something else, nor shared by two counts.
 */
export function searchTarget(search: SearchTarget): SearchTarget {
  const seen = new Map<string, string>();
  for (const [count, path] of Object.entries(COUNT_FIELD_PATHS) as [keyof CountFields, string][]) {
    const field = search.movies.countFields[count];
    if (field === null) continue;
    if (field in MOVIE_FIELDS)
      throw new ConfigError([
        { variable: 'CATALOG_MAPPING', reason: `${path}: "${field}" is a field es-sync's own movie index uses for something else` },
      ]);
    const other = seen.get(field);
    if (other)
      throw new ConfigError([
        { variable: 'CATALOG_MAPPING', reason: `${path}: "${field}" is already the field of ${other}: two counts cannot share one field` },
      ]);
    seen.set(field, path);
  }
  return search;
}
