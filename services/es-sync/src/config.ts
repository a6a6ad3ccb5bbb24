import { z } from 'zod';
import { ConfigError, durationMs, loadConfig } from '@tally/config';
import { jobConfigSchema } from '@tally/jobs';
import { MOVIE_FIELDS } from './indices';
import { DEFAULT_SEARCH_TARGET, type CountFields, type SearchTarget } from './target';

// A top-level field of the movie index, or `-` for "do not write this count" (an empty value would
// mean "unset", i.e. the default). No dots: a partial update with {"a.b": 1} adds a literal "a.b" key
// to the document instead of changing a nested a.b.
const countField = (fallback: string) =>
  z.string()
    .regex(/^(-|[A-Za-z_@][A-Za-z0-9_@-]*)$/, 'must be a top-level field name of the movie index (no dots), or "-" to not write this count')
    .default(fallback)
    .transform((s) => (s === '-' ? null : s));

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
  // The movie index's count fields (the web app's own index may call them e.g. view_count).
  ES_VIEWS_FIELD: countField('views'),
  ES_DOWNLOADS_FIELD: countField('downloads'),
  ES_LIKES_FIELD: countField('likes'),
});
export type EsSyncConfig = z.infer<typeof esSyncConfigSchema>;

export function loadEsSyncConfig(env?: Record<string, string | undefined>): Readonly<EsSyncConfig> {
  const config = loadConfig(esSyncConfigSchema, env);
  const seen = new Map<string, string>();
  for (const variable of Object.values(COUNT_FIELD_VARIABLES)) {
    const field = config[variable];
    if (field === null) continue;
    if (field in MOVIE_FIELDS) throw new ConfigError([{ variable, reason: `"${field}" is a field es-sync's own movie index uses for something else` }]);
    const other = seen.get(field);
    if (other) throw new ConfigError([{ variable, reason: `"${field}" is already the field of ${other}: two counts cannot share one field` }]);
    seen.set(field, variable);
  }
  return config;
}

/** The variable that names each count's field, for error messages. */
export const COUNT_FIELD_VARIABLES = { views: 'ES_VIEWS_FIELD', downloads: 'ES_DOWNLOADS_FIELD', likes: 'ES_LIKES_FIELD' } as const;

/** The configured target: today's index names, the count fields from ES_*_FIELD. */
export function searchTarget(config: Pick<EsSyncConfig, 'ES_VIEWS_FIELD' | 'ES_DOWNLOADS_FIELD' | 'ES_LIKES_FIELD'>): SearchTarget {
  const countFields: CountFields = { views: config.ES_VIEWS_FIELD, downloads: config.ES_DOWNLOADS_FIELD, likes: config.ES_LIKES_FIELD };
  return { ...DEFAULT_SEARCH_TARGET, movies: { ...DEFAULT_SEARCH_TARGET.movies, countFields } };
}
