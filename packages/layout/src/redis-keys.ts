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
  /**
   * Moves (INCR) at every take and every clean-up of a flush. A display key seeded from a MySQL read
   * is exact only if no flush was between its take and its commit from that read to the seed's SET:
   * the same generation at both ends and no flush registered at the SET prove it (noteReseedLua).
   */
  flushGeneration: 'tally:counter:flush-generation',
  /**
   * Pending fields `{metric}:{id}` whose display key needs re-aligning: seeded while a flush may have
   * been in progress (noteReseedLua), or of a movie MySQL lacks (the flush dropped its deltas). The
   * flusher sets each to MySQL + pending at the end of its next run (only these keys).
   */
  realign: 'tally:counter:realign',
  /** The realign set as the flusher took it (RENAME; merged into if a killed run left one). */
  realignTaken: 'tally:counter:realign:taken',
} as const;

/**
 * Lua for a script that seeds a display key from MySQL: defines `noteReseed(field)`, to call after
 * the SET, which adds the pending field to `counterKeys.realign` when the seed may miss a flush's
 * deltas. A seed read MySQL after reading generation `seen`; it can miss a flush's deltas only if
 * that flush was taken but not committed at some point between the read and the SET. Any take or
 * clean-up since the read moved the generation; a flush taken before the read and still not cleaned
 * up is in the registry. Otherwise the seed is exact and nothing is noted, so the flusher re-aligns
 * only keys that may have drifted (a movie's first count across a flush, Redis emptied), not every
 * key it flushed. Arguments are Lua expressions (KEYS[i], ARGV[j]).
 */
export function noteReseedLua(k: { flushes: string; generation: string; realign: string; seen: string }): string {
  return `
local reseedRisk = nil
local function noteReseed(field)
  if reseedRisk == nil then
    reseedRisk = (redis.call('GET', ${k.generation}) or '') ~= ${k.seen} or redis.call('SCARD', ${k.flushes}) > 0
  end
  if reseedRisk then redis.call('SADD', ${k.realign}, field) end
end
`;
}

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
