import type { Knex } from 'knex';
import type { Catalog } from '@tally/catalog';
import { itemNeighbours, popularLists, scoreTargets, SIM_UNIT } from './co-occurrence';
import { readRecommendationInput } from './recommendation-history';
import type { Recommendation } from './types';

/** Tuning, each with the reason for its value. */
export const RECOMMENDATION_SETTINGS = {
  /** Movies per user, as the issue asks. */
  perUser: 20,
  /** A user is active with a view in the last 30 days: only they get a stored list. */
  activeDays: 30,
  /**
   * Most recent history rows per user that enter the co-occurrence: pairs grow with its square
   * (50 → ≤ 2,450 pairs per user), and recent views say more about current taste than old ones.
   */
  historyCap: 50,
  /** Neighbours kept per movie (item-kNN): scoring joins each seen movie with at most this many. */
  neighbours: 50,
} as const;

export const POPULAR_REASON = 'popular';
/** The reason a co-occurrence pick carries: the seen movie that contributed most. ≤ 64 chars as recommendation.clicked requires. */
export const coViewedReason = (javId: number): string => `co_viewed:${javId}`;

export interface UserRecommendations {
  user_id: number;
  items: Recommendation[];
}

export interface RecommendationBuild {
  users: UserRecommendations[];
  /** Only with `holdout`: each evaluated user's held-out movie and the popularity-only list. */
  holdout?: Map<number, { jav_id: number; popular: number[] }>;
}

/**
 * Item-to-item co-occurrence:
 *   sim(i, c) = Σ_v w(v, c) over users v who have both i and c  /  sqrt(users(i) · Σ_v w(v, c)),
 *   w = 1 for a viewed movie, 2 when the user also liked it;
 *   score(u, c) = Σ sim(i, c) over the movies i that u has seen (recent `historyCap`), c unseen,
 * keeping the `neighbours` most similar movies per i (ties: lower movie id). Lists shorter than
 * `perUser` are filled with the most popular unseen movies (reason `popular`), so every active user
 * gets a full list.
 *
 * MySQL streams the history once (ids and flags, newest first per user) and the likes; the pairs are
 * counted here in typed arrays (co-occurrence.ts): ≈ 5 s on the 1 M-view benchmark. Done in MySQL
 * (temporary tables, window functions) the same build took 445–483 s: 308 s ranking the ≈ 20 k users
 * × 50 recent movies × 50 neighbours rows of the scoring query, 97 s building the neighbour table
 * from the self-join of the capped history, ≈ 40 s for the ten temporary tables' copies.
 *
 * With `holdout`, each user's most recent view (users with ≥ 2 movies) is removed from ALL the data
 * (co-occurrence, popularity, seen set) and kept aside: the offline evaluation.
 *
 * History and likes are the app's tables, read through the catalog (likes whatever shape they have:
 * `catalog.likedPairs()`). An app history without a last-viewed column has no recency: every user
 * with history counts as active, the cap keeps the highest movie ids, and nothing is held out.
 */
export async function buildRecommendations(
  db: Knex,
  catalog: Catalog,
  now: Date,
  opts: { holdout?: boolean } = {},
): Promise<RecommendationBuild> {
  const s = RECOMMENDATION_SETTINGS;
  const holdout = opts.holdout === true;
  // One transaction: the history and the likes are read from the same snapshot.
  const input = await db.transaction((trx) =>
    readRecommendationInput(trx, catalog, { now, activeDays: s.activeDays, historyCap: s.historyCap, holdout }),
  );
  const { ids, hist, targets } = input;
  const nb = itemNeighbours(hist, ids, s.neighbours);
  const popular = popularLists(input.popularity, ids, targets, s.perUser).map((list) => list.map((m) => ids[m]!));
  // Merged user by user: all users' picks as rows first would be ≈ 800 k short-lived objects at 20 k users.
  const users: UserRecommendations[] = [];
  scoreTargets(hist, nb, ids, targets, s.perUser, (t, picks) => {
    const user_id = targets[t]!.userId;
    const co = picks.map((p) => ({ user_id, jav_id: ids[p.movie]!, score: p.score / SIM_UNIT, reason_i: ids[p.reason]! }));
    users.push(
      ...mergeLists(
        co,
        popular[t]!.map((jav_id) => ({ user_id, jav_id })),
        s.perUser,
      ),
    );
  });
  if (!holdout) return { users };
  return {
    users,
    holdout: new Map(targets.flatMap((t, k) => (t.held === null ? [] : [[t.userId, { jav_id: t.held, popular: popular[k]! }] as const]))),
  };
}

/**
 * Each user's list: co-occurrence picks by score, then popular unseen movies not already picked,
 * `perUser` in all. Inputs are ordered per user (best first); users appear in ascending id order.
 */
export function mergeLists(
  co: readonly { user_id: number; jav_id: number; score: number; reason_i: number }[],
  popular: readonly { user_id: number; jav_id: number }[],
  perUser: number,
): UserRecommendations[] {
  const byUser = new Map<number, Recommendation[]>();
  for (const r of co) {
    const list = byUser.get(r.user_id) ?? [];
    if (list.length < perUser) list.push({ jav_id: r.jav_id, score: r.score, reason: coViewedReason(r.reason_i) });
    byUser.set(r.user_id, list);
  }
  for (const r of popular) {
    const list = byUser.get(r.user_id) ?? [];
    byUser.set(r.user_id, list);
    if (list.length < perUser && !list.some((x) => x.jav_id === r.jav_id))
      list.push({ jav_id: r.jav_id, score: 0, reason: POPULAR_REASON });
  }
  return [...byUser.entries()].sort((a, b) => a[0] - b[0]).map(([user_id, items]) => ({ user_id, items }));
}

export interface RecommendationQuality {
  users: number;
  k: number;
  hit_rate: number;
  popularity_hit_rate: number;
  /** hit_rate / popularity_hit_rate; null when the baseline hits nothing. */
  lift: number | null;
}

/** Hit rate at k: share of evaluated users whose held-out movie is in their list, vs the popularity-only list. */
export function hitRates(build: RecommendationBuild, k: number = RECOMMENDATION_SETTINGS.perUser): RecommendationQuality {
  const lists = new Map(build.users.map((u) => [u.user_id, u.items.slice(0, k).map((x) => x.jav_id)]));
  let hits = 0;
  let popHits = 0;
  let users = 0;
  for (const [userId, h] of build.holdout ?? new Map()) {
    users++;
    if ((lists.get(userId) ?? []).includes(h.jav_id)) hits++;
    if (h.popular.slice(0, k).includes(h.jav_id)) popHits++;
  }
  const rate = (n: number) => (users === 0 ? 0 : Math.round((n / users) * 10_000) / 10_000);
  return {
    users,
    k,
    hit_rate: rate(hits),
    popularity_hit_rate: rate(popHits),
    lift: popHits === 0 ? null : Math.round((hits / popHits) * 1000) / 1000,
  };
}

/** Evaluates offline: rebuild with each user's last view held out, then compare hit rates. */
export async function evaluateRecommendations(db: Knex, catalog: Catalog, now: Date): Promise<RecommendationQuality> {
  return hitRates(await buildRecommendations(db, catalog, now, { holdout: true }));
}
