/**
 * Item-to-item co-occurrence over dense movie indexes, in typed arrays. Movie ids only break ties, so
 * any numbering of the movies gives the same result. Similarities are integers in units of 1e-12 (the
 * DECIMAL(20,12) the SQL build stored): a sim is at most √2 (co ≤ both Σ w(c) and 2·users(i)), so a
 * score of ≤ 51 of them stays far below 2^53 and sums are exact whatever their order: a rebuild on
 * the same data is identical, to the last digit, to what the SQL build gave.
 */

/** Compressed rows: row k's entries are at [start[k], start[k + 1]). */
export interface Rows {
  start: Int32Array;
  movie: Int32Array;
}
/** Each user's recent history (movie, weight), in compressed rows. */
export interface WeightedRows extends Rows {
  weight: Uint8Array;
}
/** Each movie's nearest movies, best first, with their similarity in 1e-12 units. */
export interface Neighbours extends Rows {
  sim: Float64Array;
}

/** One unit of a stored similarity or score. */
export const SIM_UNIT = 1e12;

/**
 * x (≥ 0) in 1e-12 units, as MariaDB's CAST(x AS DECIMAL(20,12)) rounds a DOUBLE: from the shortest
 * decimal that reads back as x (what `String(x)` prints), half up; equal to MariaDB 10.11's CAST on
 * 2.3 M sims and crafted half-way cases. The fast path is exact unless x·1e12 lies within 2e-3 of a
 * half: below 4, fl(x·1e12) and the shortest decimal are each within 5e-4 of x·1e12, so Math.round
 * agrees with the decimal rounding (≈ 0.5 % of values take the slow path).
 */
export function decimal12(x: number): number {
  const y = x * SIM_UNIT;
  if (x < 4 && Math.abs(y - Math.floor(y) - 0.5) > 2e-3) return Math.round(y);
  const m = /^(\d+)(?:\.(\d+))?(?:e([+-]\d+))?$/.exec(String(x));
  if (m === null) throw new RangeError(`decimal12: ${x} is not a finite number ≥ 0`);
  const digits = m[1]! + (m[2] ?? '');
  const keep = m[1]!.length + Number(m[3] ?? 0) + 12;
  if (keep < 0) return 0;
  const kept = keep === 0 ? 0 : Number(digits.slice(0, keep).padEnd(keep, '0'));
  return kept + ((digits[keep] ?? '0') >= '5' ? 1 : 0);
}

/** The best `k` of the entries offered, by value DESC then movie id ASC: a heap whose root is the worst kept. */
export class TopK {
  readonly movie: Int32Array;
  readonly value: Float64Array;
  size = 0;

  constructor(
    private readonly k: number,
    private readonly ids: ArrayLike<number>,
  ) {
    this.movie = new Int32Array(k);
    this.value = new Float64Array(k);
  }

  /** a before b in the result. */
  private better(va: number, ma: number, vb: number, mb: number): boolean {
    return va > vb || (va === vb && this.ids[ma]! < this.ids[mb]!);
  }

  offer(m: number, v: number): void {
    if (this.size < this.k) {
      let i = this.size++;
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (!this.better(this.value[p]!, this.movie[p]!, v, m)) break;
        this.movie[i] = this.movie[p]!;
        this.value[i] = this.value[p]!;
        i = p;
      }
      this.movie[i] = m;
      this.value[i] = v;
    } else if (this.k > 0 && this.better(v, m, this.value[0]!, this.movie[0]!)) {
      this.siftDown(m, v);
    }
  }

  private siftDown(m: number, v: number): void {
    let i = 0;
    for (;;) {
      let w = 2 * i + 1;
      if (w >= this.size) break;
      if (w + 1 < this.size && this.better(this.value[w]!, this.movie[w]!, this.value[w + 1]!, this.movie[w + 1]!)) w++;
      if (!this.better(v, m, this.value[w]!, this.movie[w]!)) break;
      this.movie[i] = this.movie[w]!;
      this.value[i] = this.value[w]!;
      i = w;
    }
    this.movie[i] = m;
    this.value[i] = v;
  }

  /** The kept entries best first; empties the heap. */
  drain(): { movie: number; value: number }[] {
    const out: { movie: number; value: number }[] = [];
    for (let i = 0; i < this.size; i++) out.push({ movie: this.movie[i]!, value: this.value[i]! });
    this.size = 0;
    return out.sort((a, b) => (this.better(a.value, a.movie, b.value, b.movie) ? -1 : 1));
  }
}

/** movie → the users whose recent history holds it. */
function usersByMovie(hist: WeightedRows, movies: number): Rows {
  const start = new Int32Array(movies + 1);
  for (const m of hist.movie) start[m + 1]!++;
  for (let m = 0; m < movies; m++) start[m + 1]! += start[m]!;
  const fill = start.slice(0, movies);
  const users = new Int32Array(hist.movie.length);
  for (let u = 0; u + 1 < hist.start.length; u++)
    for (let e = hist.start[u]!; e < hist.start[u + 1]!; e++) users[fill[hist.movie[e]!]!++] = u;
  return { start, movie: users };
}

function grow(nb: Neighbours, size: number): void {
  const movie = new Int32Array(size);
  const sim = new Float64Array(size);
  movie.set(nb.movie);
  sim.set(nb.sim);
  nb.movie = movie;
  nb.sim = sim;
}

/**
 * sim(i, c) = Σ_v w(v, c) over users v with both i and c / sqrt(users(i) · Σ_v w(v, c)), the `k` best c
 * per i. One dense accumulator over all movies per i: ≈ Σ_v |history(v)|² additions in all (≤ 2,450
 * per user at the 50-movie cap) instead of the SQL self-join's temporary table of every pair.
 */
export function itemNeighbours(hist: WeightedRows, ids: ArrayLike<number>, k: number): Neighbours {
  const movies = ids.length;
  const users = new Int32Array(movies);
  const wsum = new Int32Array(movies);
  for (let e = 0; e < hist.movie.length; e++) {
    users[hist.movie[e]!]!++;
    wsum[hist.movie[e]!]! += hist.weight[e]!;
  }
  const byMovie = usersByMovie(hist, movies);
  const co = new Int32Array(movies);
  const touched = new Int32Array(movies);
  const top = new TopK(k, ids);
  // Grown by doubling: sized movies × k up front, a catalog of 1 M watched movies would take 600 MB.
  const out: Neighbours = { start: new Int32Array(movies + 1), movie: new Int32Array(1024), sim: new Float64Array(1024) };
  let n = 0;
  for (let i = 0; i < movies; i++) {
    let t = 0;
    for (let p = byMovie.start[i]!; p < byMovie.start[i + 1]!; p++) {
      const v = byMovie.movie[p]!;
      for (let e = hist.start[v]!; e < hist.start[v + 1]!; e++) {
        const c = hist.movie[e]!;
        if (c === i) continue;
        if (co[c] === 0) touched[t++] = c;
        co[c]! += hist.weight[e]!;
      }
    }
    for (let j = 0; j < t; j++) {
      const c = touched[j]!;
      top.offer(c, decimal12(co[c]! / Math.sqrt(users[i]! * wsum[c]!)));
      co[c] = 0;
    }
    if (n + k > out.movie.length) grow(out, Math.max(2 * out.movie.length, n + k));
    for (const x of top.drain()) {
      out.movie[n] = x.movie;
      out.sim[n++] = x.value;
    }
    out.start[i + 1] = n;
  }
  return { start: out.start, movie: out.movie.slice(0, n), sim: out.sim.slice(0, n) };
}

/** Who gets a list: the user's row in the history, and the movies never to recommend to them. */
export interface Target {
  user: number;
  seen: readonly number[];
}
export interface ScoredPick {
  movie: number;
  /** Σ sim over the user's recent movies, in 1e-12 units. */
  score: number;
  /** The recent movie with the highest sim to this pick (lowest id on a tie). */
  reason: number;
}

/**
 * score(u, c) = Σ sim(i, c) over the movies i of u's recent history, c unseen; the `perUser` best by
 * score DESC, movie id ASC. `onUser` gets each target's picks in target order.
 */
export function scoreTargets(
  hist: Rows,
  nb: Neighbours,
  ids: ArrayLike<number>,
  targets: readonly Target[],
  perUser: number,
  onUser: (target: number, picks: ScoredPick[]) => void,
): void {
  const movies = ids.length;
  const mark = new Int32Array(movies).fill(-1);
  const score = new Float64Array(movies);
  const best = new Float64Array(movies);
  const reason = new Int32Array(movies);
  const touched = new Int32Array(movies);
  const top = new TopK(perUser, ids);
  targets.forEach((target, ti) => {
    // mark[c] = 2·ti: seen by this target; 2·ti + 1: scored for this target.
    for (const m of target.seen) mark[m] = 2 * ti;
    let t = 0;
    for (let e = hist.start[target.user]!; e < hist.start[target.user + 1]!; e++) {
      const i = hist.movie[e]!;
      for (let p = nb.start[i]!; p < nb.start[i + 1]!; p++) {
        const c = nb.movie[p]!;
        const s = nb.sim[p]!;
        if (mark[c] === 2 * ti) continue;
        if (mark[c] !== 2 * ti + 1) {
          mark[c] = 2 * ti + 1;
          touched[t++] = c;
          score[c] = s;
          best[c] = s;
          reason[c] = i;
          continue;
        }
        score[c]! += s;
        if (s > best[c]! || (s === best[c] && ids[i]! < ids[reason[c]!]!)) {
          best[c] = s;
          reason[c] = i;
        }
      }
    }
    for (let j = 0; j < t; j++) top.offer(touched[j]!, score[touched[j]!]!);
    onUser(
      ti,
      top.drain().map((x) => ({ movie: x.movie, score: x.value, reason: reason[x.movie]! })),
    );
  });
}

/**
 * Movies by popularity (count DESC, id ASC), and per target the first `perUser` unseen among the top
 * (perUser + seenCount) of them: the bound the SQL build used, kept so a list is the same as before.
 */
export function popularLists(
  counts: Int32Array,
  ids: ArrayLike<number>,
  targets: readonly (Target & { seenCount: number })[],
  perUser: number,
): number[][] {
  const ranked: number[] = [];
  for (let m = 0; m < counts.length; m++) if (counts[m]! > 0) ranked.push(m);
  ranked.sort((a, b) => counts[b]! - counts[a]! || ids[a]! - ids[b]!);
  const mark = new Int32Array(counts.length).fill(-1);
  return targets.map((target, ti) => {
    for (const m of target.seen) mark[m] = ti;
    const list: number[] = [];
    const bound = Math.min(perUser + target.seenCount, ranked.length);
    for (let r = 0; r < bound && list.length < perUser; r++) if (mark[ranked[r]!] !== ti) list.push(ranked[r]!);
    return list;
  });
}
