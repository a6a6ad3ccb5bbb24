/** Redis key layout of the counter (written by counter and flusher, read by query-api and the web app). */
export type Metric = 'views' | 'downloads' | 'likes';
export const METRICS: readonly Metric[] = ['views', 'downloads', 'likes'];

export const counterKeys = {
  /** What the web app reads: the movie's display value. */
  display: (metric: Metric, javId: number) => `jav:${metric}:${javId}`,
  /** Deltas not yet in MySQL: fields `{metric}:{id}` → delta, and `off:{topic}:{partition}` → highest offset they cover. */
  pending: 'tally:counter:pending',
  pendingField: (metric: Metric, javId: number) => `${metric}:${javId}`,
  pendingOffsetField: (topic: string, partition: number) => `off:${topic}:${partition}`,
  /** The counter's progress: `{topic}:{partition}` → last applied offset (the truth; Kafka's commit is informational). */
  applied: 'tally:counter:applied',
  appliedField: (topic: string, partition: number) => `${topic}:${partition}`,
  /** Event ids counted recently, to absorb a client's retry of the same event at another offset. */
  seen: (eventId: string) => `tally:counter:seen:${eventId}`,
  /** A pending hash taken by the flusher (RENAME), named by its flush id until MySQL has it. */
  flushing: (flushId: string) => `tally:counter:flushing:${flushId}`,
  flushingPattern: 'tally:counter:flushing:*',
  /** Ids of the flushing hashes not yet cleaned up (added with the RENAME, removed with the DEL): the flusher's
   * recovery reads this set instead of SCANning a keyspace holding ~1M dedup keys. */
  flushes: 'tally:counter:flushes',
  featuredAll: 'jav:featured:all',
  /** Bumped by the counter with every invalidation: a cache rebuild that read MySQL before it must not store its list. */
  featuredVersion: 'jav:featured:version',
  featuredGroup: (group: string) => `jav:featured:group:${group}`,
} as const;

/** Redis keys of the ingest API (VIEW_DEDUP_WINDOW). */
export const ingestKeys = {
  /**
   * The counted view of one viewer and movie within the window: holds that view's event_id and
   * expires with the window. The topic prefix is part of the key, so two environments sharing a
   * Redis decide apart, as their topics are apart. `viewer` is `u:<user_id>` or `g:<hash of ip and
   * user agent>`, never a raw ip.
   */
  countedView: (topicPrefix: string, viewer: string, javId: number) => `tally:ingest:view:${topicPrefix}${viewer}:${javId}`,
} as const;
