import type { EventOf, MovieDownloaded, MovieViewed } from '@tally/events';

/** What the history sink reads of a movie.viewed or movie.downloaded event (the two share one shape). */
export type HistoryEvent = Pick<
  MovieViewed & MovieDownloaded,
  'event_id' | 'occurred_at' | 'received_at' | 'user_id' | 'jav_id' | 'ip' | 'user_agent'
>;

export type HistoryKind = 'view' | 'download';

/** The event types history reads, and the decoded events it receives: the generated `{ type, payload }`. */
export const HISTORY_TYPES = ['movie.viewed', 'movie.downloaded'] as const;
export type HistoryMessage = EventOf<(typeof HISTORY_TYPES)[number]>;

/**
 * The effect of some events on one user_jav_history row. Times are epoch milliseconds (DATETIME(3)
 * keeps milliseconds, so nothing is rounded on the way). A download-only delta has no view fields.
 */
export interface HistoryDelta {
  userId: number;
  javId: number;
  viewCount: number;
  firstViewedAt: number | null;
  lastViewedAt: number | null;
  /** ip and user agent of the latest view (null when the delta has no view). */
  ip: string | null;
  userAgent: string | null;
  downloadCount: number;
  lastDownloadedAt: number | null;
}

export interface HistoryFold {
  /** Sorted by (userId, javId): every transaction locks rows in the same order, which avoids most deadlocks between partitions. */
  deltas: HistoryDelta[];
  /** Events of guests (user_id null): no history row, but processed. */
  guests: number;
  /** Events whose event_id appeared earlier in the same input (a client retry inside one chunk). */
  duplicates: number;
  /** Lower-cased event_ids of the events that went into `deltas` (what history_applied_events records). */
  appliedIds: string[];
}

/** Total order of views for "the latest": occurred_at, then received_at, then event_id. */
type ViewRank = readonly [occurredAt: number, receivedAt: number, eventId: string];

function later(a: ViewRank, b: ViewRank): boolean {
  if (a[0] !== b[0]) return a[0] > b[0];
  if (a[1] !== b[1]) return a[1] > b[1];
  return a[2] > b[2];
}

const minOf = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : Math.min(a, b));
const maxOf = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : Math.max(a, b));

function emptyDelta(userId: number, javId: number): HistoryDelta {
  return {
    userId,
    javId,
    viewCount: 0,
    firstViewedAt: null,
    lastViewedAt: null,
    ip: null,
    userAgent: null,
    downloadCount: 0,
    lastDownloadedAt: null,
  };
}

/**
 * Folds one partition chunk into one delta per (user_id, jav_id).
 *
 * Order independence is the point: these topics are keyed by jav_id, so one user's events are spread
 * over partitions (and over the two topics) and no consumer sees them in order. Every field is
 * therefore a commutative, associative fold — sums, min, max, and "ip/user agent of the view with the
 * greatest (occurred_at, received_at, event_id)" — so any order of events inside a chunk, and any order
 * in which partitions apply their chunks (mergeDeltas, mirrored by the SQL upsert in sink.ts), yields
 * the same row. That is what "per-user order respected" means for history.
 */
export function foldHistory(kind: HistoryKind, events: Iterable<HistoryEvent>): HistoryFold {
  const rows = new Map<string, { delta: HistoryDelta; latest: ViewRank | null }>();
  const seen = new Set<string>();
  const appliedIds: string[] = [];
  let guests = 0;
  let duplicates = 0;
  for (const e of events) {
    // UUIDs are compared case-insensitively, as the ascii_general_ci key of history_applied_events does.
    const id = e.event_id.toLowerCase();
    if (seen.has(id)) {
      duplicates++;
      continue;
    }
    seen.add(id);
    if (e.user_id === null) {
      guests++;
      continue;
    }
    appliedIds.push(id);
    const key = `${e.user_id}:${e.jav_id}`;
    let row = rows.get(key);
    if (!row) rows.set(key, (row = { delta: emptyDelta(e.user_id, e.jav_id), latest: null }));
    const d = row.delta;
    if (kind === 'download') {
      d.downloadCount++;
      d.lastDownloadedAt = maxOf(d.lastDownloadedAt, e.occurred_at);
      continue;
    }
    d.viewCount++;
    d.firstViewedAt = minOf(d.firstViewedAt, e.occurred_at);
    d.lastViewedAt = maxOf(d.lastViewedAt, e.occurred_at);
    const rank: ViewRank = [e.occurred_at, e.received_at, e.event_id];
    if (row.latest === null || later(rank, row.latest)) {
      row.latest = rank;
      d.ip = e.ip;
      d.userAgent = e.user_agent;
    }
  }
  const deltas = [...rows.values()].map((r) => r.delta).sort((a, b) => a.userId - b.userId || a.javId - b.javId);
  return { deltas, guests, duplicates, appliedIds };
}

/**
 * What the upsert in sink.ts does to a stored row `a` with a chunk's delta `b`, as a pure function
 * (the unit tests check that chunking and apply order do not change the result). Across chunks only
 * last_viewed_at is stored, so a tie at the same millisecond goes to the delta applied later — both
 * are views of that user at that instant, so either ip is a right "latest".
 */
export function mergeDeltas(a: HistoryDelta, b: HistoryDelta): HistoryDelta {
  const bIsLater = b.lastViewedAt !== null && (a.lastViewedAt === null || b.lastViewedAt >= a.lastViewedAt);
  return {
    userId: a.userId,
    javId: a.javId,
    viewCount: a.viewCount + b.viewCount,
    firstViewedAt: minOf(a.firstViewedAt, b.firstViewedAt),
    lastViewedAt: maxOf(a.lastViewedAt, b.lastViewedAt),
    ip: bIsLater ? b.ip : a.ip,
    userAgent: bIsLater ? b.userAgent : a.userAgent,
    downloadCount: a.downloadCount + b.downloadCount,
    lastDownloadedAt: maxOf(a.lastDownloadedAt, b.lastDownloadedAt),
  };
}
