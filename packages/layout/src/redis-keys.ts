/** Redis key layout of the counter (written by counter and flusher, read by query-api and the web app). */
/**
 * The per-movie figures: sums of events (views, downloads) and figures of per-user state (likes =
 * users who like it; rating_count and rating_sum of the users' current ratings, so the average is
 * rating_sum / rating_count; watchlists = users with it on their watchlist).
 */
export type Metric = 'views' | 'downloads' | 'likes' | 'rating_count' | 'rating_sum' | 'watchlists';
export const METRICS: readonly Metric[] = ['views', 'downloads', 'likes', 'rating_count', 'rating_sum', 'watchlists'];

/**
 * Keys the web app's pages read, under its prefix (the catalog mapping's `redis.prefix`, `jav:` by
 * default): display counters and the featured cache (docs/featured-cache.schema.json).
 */
export interface AppKeys {
  /** The movie's display value. */
  display(metric: Metric, javId: number): string;
  featuredAll: string;
  /** Bumped by the counter with every invalidation: a cache rebuild that read MySQL before it must not store its list. */
  featuredVersion: string;
  featuredGroup(group: string): string;
}

export function appKeys(prefix: string): AppKeys {
  return {
    display: (metric, javId) => `${prefix}${metric}:${javId}`,
    featuredAll: `${prefix}featured:all`,
    featuredVersion: `${prefix}featured:version`,
    featuredGroup: (group) => `${prefix}featured:group:${group}`,
  };
}

/** The app keys under the default prefix `jav:`. */
export const DEFAULT_APP_KEYS = appKeys('jav:');

/** Tally's own keys (prefix `tally:counter:`), never read by the app. */
export const counterKeys = {
  /** Deltas not yet in MySQL: fields `{metric}:{id}` → delta, and `off:{topic}:{partition}` → highest offset they cover. */
  pending: 'tally:counter:pending',
  pendingField: (metric: Metric, javId: number) => `${metric}:${javId}`,
  pendingOffsetField: (topic: string, partition: number) => `off:${topic}:${partition}`,
  /** The counter's progress: `{topic}:{partition}` → last applied offset (the truth; Kafka's commit is informational). */
  applied: 'tally:counter:applied',
  appliedField: (topic: string, partition: number) => `${topic}:${partition}`,
  /** Per-user state of a facet for one movie: field user id → `occurredAt|eventId|value` of the user's latest change. */
  state: (facet: string, javId: number) => `tally:counter:state:${facet}:${javId}`,
  statePattern: 'tally:counter:state:*',
  /** A state change not yet in MySQL (movie_user_state), in the pending hash beside the deltas it caused. */
  pendingStateField: (facet: string, javId: number, userId: number) => `state:${facet}:${javId}:${userId}`,
  /** Event ids counted recently, to absorb a client's retry of the same event at another offset. */
  seen: (eventId: string) => `tally:counter:seen:${eventId}`,
  /** A pending hash taken by the flusher (RENAME), named by its flush id until MySQL has it. */
  flushing: (flushId: string) => `tally:counter:flushing:${flushId}`,
  flushingPattern: 'tally:counter:flushing:*',
  /** Ids of the flushing hashes not yet cleaned up (added with the RENAME, removed with the DEL): the flusher's
   * recovery reads this set instead of SCANning a keyspace holding ~1M dedup keys. */
  flushes: 'tally:counter:flushes',
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
  /** Every counted view of one user, whatever the prefix and movie (forgetting them). */
  userViewsPattern: (userId: number) => `tally:ingest:view:*u:${userId}:*`,
} as const;
