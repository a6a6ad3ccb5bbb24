import type { Knex } from 'knex';
import { q, type Catalog } from '@tally/catalog';
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

type Row = Record<string, unknown>;
const num = (v: unknown): number => Number(v);

/**
 * Item-to-item co-occurrence, all in MySQL (one pinned connection, temporary tables):
 *   sim(i, c) = Σ_v w(v, c) over users v who have both i and c  /  sqrt(users(i) · Σ_v w(v, c)),
 *   w = 1 for a viewed movie, 2 when the user also liked it;
 *   score(u, c) = Σ sim(i, c) over the movies i that u has seen (recent `historyCap`), c unseen,
 * keeping the `neighbours` most similar movies per i. Lists shorter than `perUser` are filled with
 * the most popular unseen movies (reason `popular`), so every active user gets a full list.
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
  return db.transaction(async (trx) => {
    const run = (sql: string, b: readonly unknown[] = []) => trx.raw(sql, b as Knex.RawBinding[]);
    const select = async (sql: string, b: readonly unknown[] = []): Promise<Row[]> => ((await run(sql, b)) as [Row[]])[0];
    const s = RECOMMENDATION_SETTINGS;
    const holdout = opts.holdout === true;
    const activeSince = new Date(now.getTime() - s.activeDays * 86_400_000);
    const h = historySql(catalog);
    // DISTINCT: an app table of action rows may hold the same like twice; rec_all's key allows one.
    const liked = catalog.likedPairs();
    const likes = `(SELECT DISTINCT lp.user_id, lp.jav_id FROM (${liked.sql}) lp)`;
    for (const t of TEMP_TABLES) await run(`DROP TEMPORARY TABLE IF EXISTS ${t}`);

    // Every history row, numbered newest first per user; rn = 1 of a user with ≥ 2 rows is the holdout.
    const newestFirst = `ROW_NUMBER() OVER (PARTITION BY ${h.user} ORDER BY ${h.last} DESC, ${h.movie} DESC)`;
    await run(
      `CREATE TEMPORARY TABLE rec_all (user_id BIGINT UNSIGNED NOT NULL, jav_id BIGINT UNSIGNED NOT NULL, w TINYINT NOT NULL,
                 rn INT NOT NULL, held TINYINT NOT NULL, PRIMARY KEY (user_id, jav_id), KEY (jav_id))
               SELECT ${h.user} AS user_id, ${h.movie} AS jav_id, 1 + (l.user_id IS NOT NULL) AS w, ${newestFirst} AS rn,
                      ${holdout ? `(COUNT(*) OVER (PARTITION BY ${h.user}) >= 2 AND ${newestFirst} = 1 AND ${h.last} IS NOT NULL)` : '0'} AS held
                 FROM ${h.table} h LEFT JOIN ${likes} l ON l.user_id = ${h.user} AND l.jav_id = ${h.movie}`,
      liked.bindings,
    );
    // Two copies: MariaDB cannot open one temporary table twice in a query (ER_CANT_REOPEN_TABLE).
    for (const t of ['rec_hist', 'rec_hist2']) {
      await run(
        `CREATE TEMPORARY TABLE ${t} (user_id BIGINT UNSIGNED NOT NULL, jav_id BIGINT UNSIGNED NOT NULL, w TINYINT NOT NULL,
                   PRIMARY KEY (user_id, jav_id), KEY (jav_id))
                 SELECT user_id, jav_id, w FROM rec_all WHERE held = 0 AND rn <= ? + ?`,
        [s.historyCap, holdout ? 1 : 0],
      );
    }
    await run(`CREATE TEMPORARY TABLE rec_item (jav_id BIGINT UNSIGNED NOT NULL PRIMARY KEY, users INT NOT NULL, wsum INT NOT NULL)
               SELECT jav_id, COUNT(*) AS users, SUM(w) AS wsum FROM rec_hist GROUP BY jav_id`);
    // DECIMAL, not DOUBLE: sums of decimals do not depend on summation order, so a rebuild is identical.
    await run(
      `CREATE TEMPORARY TABLE rec_sim (i BIGINT UNSIGNED NOT NULL, c BIGINT UNSIGNED NOT NULL, sim DECIMAL(20,12) NOT NULL, PRIMARY KEY (i, c))
               SELECT i, c, sim FROM (
                 SELECT p.i, p.c, p.sim, ROW_NUMBER() OVER (PARTITION BY p.i ORDER BY p.sim DESC, p.c ASC) AS k FROM (
                   SELECT x.i, x.c, CAST(x.co / SQRT(a.users * b.wsum) AS DECIMAL(20,12)) AS sim FROM (
                     SELECT a.jav_id AS i, b.jav_id AS c, SUM(b.w) AS co FROM rec_hist a JOIN rec_hist2 b ON b.user_id = a.user_id AND b.jav_id <> a.jav_id
                      GROUP BY a.jav_id, b.jav_id) x
                   JOIN rec_item a ON a.jav_id = x.i JOIN rec_item b ON b.jav_id = x.c) p
               ) ranked WHERE k <= ?`,
      [s.neighbours],
    );

    await run(`CREATE TEMPORARY TABLE rec_held (user_id BIGINT UNSIGNED NOT NULL PRIMARY KEY, jav_id BIGINT UNSIGNED NOT NULL)
               SELECT user_id, jav_id FROM rec_all WHERE held = 1`);
    // Who gets a list: active users (evaluation: users with a holdout), and the movies they must not get.
    const active = holdout
      ? { sql: 'SELECT user_id FROM rec_held', bindings: [] }
      : h.lastColumn === null
        ? { sql: `SELECT ${h.user} FROM ${h.table} h`, bindings: [] }
        : { sql: `SELECT ${h.user} FROM ${h.table} h WHERE ${h.last} >= ?`, bindings: [activeSince] };
    await run(
      `CREATE TEMPORARY TABLE rec_user (user_id BIGINT UNSIGNED NOT NULL PRIMARY KEY, seen INT NOT NULL)
               SELECT ${h.user} AS user_id, COUNT(*) AS seen FROM ${h.table} h
                WHERE ${h.user} IN (${active.sql})
                GROUP BY ${h.user}`,
      active.bindings,
    );
    await run(
      `CREATE TEMPORARY TABLE rec_seen (user_id BIGINT UNSIGNED NOT NULL, jav_id BIGINT UNSIGNED NOT NULL, PRIMARY KEY (user_id, jav_id))
               SELECT a.user_id, a.jav_id FROM rec_all a JOIN rec_user u ON u.user_id = a.user_id WHERE a.held = 0
               UNION SELECT i.user_id, i.jav_id FROM ${likes} i JOIN rec_user u ON u.user_id = i.user_id
                WHERE NOT EXISTS (SELECT 1 FROM rec_held d WHERE d.user_id = i.user_id AND d.jav_id = i.jav_id)`,
      liked.bindings,
    );
    await run(`CREATE TEMPORARY TABLE rec_user_hist (user_id BIGINT UNSIGNED NOT NULL, jav_id BIGINT UNSIGNED NOT NULL, PRIMARY KEY (user_id, jav_id), KEY (jav_id))
               SELECT h.user_id, h.jav_id FROM rec_hist h JOIN rec_user u ON u.user_id = h.user_id`);

    const co = await select(
      `SELECT user_id, c, score, reason_i FROM (
         SELECT user_id, c, score, reason_i, ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY score DESC, c ASC) AS r FROM (
           SELECT h.user_id, s.c, SUM(s.sim) OVER (PARTITION BY h.user_id, s.c) AS score, s.i AS reason_i,
                  ROW_NUMBER() OVER (PARTITION BY h.user_id, s.c ORDER BY s.sim DESC, s.i ASC) AS best
             FROM rec_user_hist h JOIN rec_sim s ON s.i = h.jav_id
            WHERE NOT EXISTS (SELECT 1 FROM rec_seen x WHERE x.user_id = h.user_id AND x.jav_id = s.c)) y
          WHERE best = 1) z
        WHERE r <= ? ORDER BY user_id, r`,
      [s.perUser],
    );
    // Materialized with rnk as its key: joined to a derived table instead, every user scanned the whole
    // ranking (20k users × 20k movies: 277 s on the 1 M-view benchmark) instead of a range of it.
    await run(`CREATE TEMPORARY TABLE rec_pop (rnk INT NOT NULL PRIMARY KEY, jav_id BIGINT UNSIGNED NOT NULL)
               SELECT ROW_NUMBER() OVER (ORDER BY COUNT(*) DESC, jav_id ASC) AS rnk, jav_id FROM rec_all WHERE held = 0 GROUP BY jav_id`);
    // Popularity = users who have the movie (after the holdout); among the top (perUser + seen) at
    // least perUser are unseen, so the join needs no more rows than that.
    const maxSeen = num((await select('SELECT COALESCE(MAX(seen), 0) AS m FROM rec_user'))[0]?.m);
    const popular = await select(
      `SELECT user_id, jav_id FROM (
         SELECT u.user_id, p.jav_id, ROW_NUMBER() OVER (PARTITION BY u.user_id ORDER BY p.rnk) AS r
           FROM rec_user u JOIN rec_pop p ON p.rnk <= ? + u.seen AND p.rnk <= ?
          WHERE NOT EXISTS (SELECT 1 FROM rec_seen x WHERE x.user_id = u.user_id AND x.jav_id = p.jav_id)) q
        WHERE r <= ? ORDER BY user_id, r`,
      // The constant bound (perUser + the largest seen count) lets MariaDB read one short range of
      // rec_pop; with only the per-user bound it scanned all of it for every user (222 s at 20k × 20k).
      [s.perUser, s.perUser + maxSeen, s.perUser],
    );
    const heldRows = holdout ? await select('SELECT user_id, jav_id FROM rec_held') : [];
    for (const t of TEMP_TABLES) await run(`DROP TEMPORARY TABLE IF EXISTS ${t}`);
    const users = mergeLists(
      co.map((r) => ({ user_id: num(r.user_id), jav_id: num(r.c), score: num(r.score), reason_i: num(r.reason_i) })),
      popular.map((r) => ({ user_id: num(r.user_id), jav_id: num(r.jav_id) })),
      s.perUser,
    );
    if (!holdout) return { users };
    const popByUser = groupIds(popular);
    return {
      users,
      holdout: new Map(heldRows.map((r) => [num(r.user_id), { jav_id: num(r.jav_id), popular: popByUser.get(num(r.user_id)) ?? [] }])),
    };
  });
}

/** The app's history table and the columns the build reads, as SQL over the alias `h`. */
function historySql(catalog: Catalog): { table: string; user: string; movie: string; last: string; lastColumn: string | null } {
  const m = catalog.mapping.history;
  const lastColumn = m.columns.lastViewedAt;
  return {
    table: catalog.sql('history'),
    user: `h.${q(m.user)}`,
    movie: `h.${q(m.movie)}`,
    last: lastColumn === null ? 'NULL' : `h.${q(lastColumn)}`,
    lastColumn,
  };
}

const TEMP_TABLES = [
  'rec_all',
  'rec_hist',
  'rec_hist2',
  'rec_item',
  'rec_sim',
  'rec_held',
  'rec_user',
  'rec_seen',
  'rec_user_hist',
  'rec_pop',
];

function groupIds(rows: Row[]): Map<number, number[]> {
  const m = new Map<number, number[]>();
  for (const r of rows) {
    const u = num(r.user_id);
    const list = m.get(u) ?? [];
    list.push(num(r.jav_id));
    m.set(u, list);
  }
  return m;
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
