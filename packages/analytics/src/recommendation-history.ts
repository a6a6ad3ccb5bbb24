import type { Knex } from 'knex';
import { q, type Catalog } from '@tally/catalog';
import type { Target, WeightedRows } from './co-occurrence';

/** What the recommendation build reads from MySQL, over dense movie indexes (see co-occurrence.ts). */
export interface RecommendationInput {
  /** Dense movie index → movie id. */
  ids: number[];
  /** Each user's most recent `historyCap` movies (the holdout left out), weight 2 when liked, else 1. */
  hist: WeightedRows;
  /** Per movie: users with it in their history (the holdout left out): the popularity ranking. */
  popularity: Int32Array;
  /** Who gets a list, ascending user id: seen = history (holdout left out) and likes; seenCount = history rows. */
  targets: (Target & { userId: number; seenCount: number; held: number | null })[];
}

export interface HistoryOptions {
  now: Date;
  activeDays: number;
  historyCap: number;
  holdout: boolean;
}

/** One user's history rows, newest first (last viewed DESC, movie DESC: the order the cap keeps). */
interface UserRows {
  user: number;
  movies: number[];
  liked: boolean[];
  recent: boolean;
  newestDated: boolean;
}

/**
 * Streams the app's history (likes joined, newest first per user) and the likes, in one transaction so
 * both read the same snapshot. Only ids and flags cross the wire, ≈ 20 B a row; the per-user cap, the
 * holdout and the active test are applied here. Without a last-viewed column every user with history
 * is active, the cap keeps the highest movie ids and nothing is held out (NULL never counts as dated).
 */
export async function readRecommendationInput(trx: Knex.Transaction, catalog: Catalog, o: HistoryOptions): Promise<RecommendationInput> {
  const m = catalog.mapping.history;
  const last = m.columns.lastViewedAt === null ? 'NULL' : `h.${q(m.columns.lastViewedAt)}`;
  const [user, movie] = [`h.${q(m.user)}`, `h.${q(m.movie)}`];
  const liked = catalog.likedPairs();
  // DISTINCT: an app table of action rows may hold the same like twice; a history row is liked or not.
  const likes = `SELECT DISTINCT lp.user_id, lp.jav_id FROM (${liked.sql}) lp`;
  const activeSince = new Date(o.now.getTime() - o.activeDays * 86_400_000);
  const input = new InputBuilder(o, m.columns.lastViewedAt === null);
  let cur: UserRows | null = null;
  const rows = trx
    .raw(
      `SELECT ${user} AS u, ${movie} AS m, l.user_id IS NOT NULL AS liked, COALESCE(${last} >= ?, 0) AS recent, ${last} IS NOT NULL AS dated
         FROM ${catalog.sql('history')} h LEFT JOIN (${likes}) l ON l.user_id = ${user} AND l.jav_id = ${movie}
        ORDER BY ${user}, ${last} DESC, ${movie} DESC`,
      [activeSince, ...liked.bindings] as Knex.RawBinding[],
    )
    .options({ rowsAsArray: true })
    .stream();
  for await (const r of rows as AsyncIterable<unknown[]>) {
    const u = Number(r[0]);
    if (cur === null || cur.user !== u) {
      if (cur) input.addUser(cur);
      cur = { user: u, movies: [], liked: [], recent: false, newestDated: Number(r[4]) === 1 };
    }
    cur.movies.push(Number(r[1]));
    cur.liked.push(Number(r[2]) === 1);
    cur.recent ||= Number(r[3]) === 1;
  }
  if (cur) input.addUser(cur);
  const likeRows = trx
    .raw(likes, liked.bindings as Knex.RawBinding[])
    .options({ rowsAsArray: true })
    .stream();
  for await (const r of likeRows as AsyncIterable<unknown[]>) input.addLike(Number(r[0]), Number(r[1]));
  return input.finish();
}

class InputBuilder {
  private readonly index = new Map<number, number>();
  private readonly ids: number[] = [];
  private readonly popularity: number[] = [];
  private readonly start: number[] = [0];
  private readonly movie: number[] = [];
  private readonly weight: number[] = [];
  private readonly targets: RecommendationInput['targets'] = [];
  private readonly targetByUser = new Map<number, RecommendationInput['targets'][number] & { seen: number[] }>();

  constructor(
    private readonly o: HistoryOptions,
    private readonly undated: boolean,
  ) {}

  private indexOf(id: number): number {
    let i = this.index.get(id);
    if (i === undefined) {
      i = this.ids.push(id) - 1;
      this.index.set(id, i);
      this.popularity.push(0);
    }
    return i;
  }

  /** A user's rows: rn = position + 1; the holdout is rn 1 of a user with ≥ 2 rows whose newest is dated. */
  addUser(r: UserRows): void {
    const held = this.o.holdout && r.movies.length >= 2 && r.newestDated;
    // The cap counts rows before the holdout is removed: cap + 1 rows, one of them held out.
    const rnMax = this.o.historyCap + (this.o.holdout ? 1 : 0);
    const isTarget = this.o.holdout ? held : this.undated || r.recent;
    const seen: number[] = [];
    for (let k = held ? 1 : 0; k < r.movies.length; k++) {
      const m = this.indexOf(r.movies[k]!);
      this.popularity[m]!++;
      if (k < rnMax) {
        this.movie.push(m);
        this.weight.push(r.liked[k] ? 2 : 1);
      }
      if (isTarget) seen.push(m);
    }
    this.start.push(this.movie.length);
    if (!isTarget) return;
    const target = { user: this.start.length - 2, userId: r.user, seen, seenCount: r.movies.length, held: held ? r.movies[0]! : null };
    this.targets.push(target);
    this.targetByUser.set(r.user, target);
  }

  /** A liked movie is never recommended, except the held-out one (the evaluation must be able to find it). */
  addLike(user: number, movieId: number): void {
    const t = this.targetByUser.get(user);
    const m = this.index.get(movieId);
    // A movie in nobody's history is neither a neighbour nor popular: nothing to exclude.
    if (t === undefined || m === undefined || movieId === t.held) return;
    t.seen.push(m);
  }

  finish(): RecommendationInput {
    return {
      ids: this.ids,
      hist: { start: Int32Array.from(this.start), movie: Int32Array.from(this.movie), weight: Uint8Array.from(this.weight) },
      popularity: Int32Array.from(this.popularity),
      targets: this.targets,
    };
  }
}
