/**
 * Elasticsearch indices written by es-sync and read by query-api. Each name is an alias over a
 * versioned index (`jav_v1`, …) so `es-sync --reindex` can build a new one and swap atomically.
 */
export const esIndices = {
  jav: 'jav',
  actors: 'actors',
  tags: 'tags',
} as const;

/** MongoDB collections written by snapshot-builder and read by query-api (a read cache of MySQL). */
export const mongoCollections = {
  analyticsSnapshots: 'analytics_snapshots',
  recommendationSnapshots: 'recommendation_snapshots',
} as const;

/** Names of the scheduled jobs as recorded in job_runs (and used for their locks and metrics). */
export const jobNames = {
  flusher: 'flusher',
  esSync: 'es-sync',
  snapshotBuilder: 'snapshot-builder',
} as const;
