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
  retention: 'retention',
} as const;
