import { decimal12, itemNeighbours, popularLists, scoreTargets, TopK, type ScoredPick, type WeightedRows } from './co-occurrence';

function rows(lists: [number, number][][]): WeightedRows {
  const start = [0];
  const movie: number[] = [];
  const weight: number[] = [];
  for (const l of lists) {
    for (const [m, w] of l) {
      movie.push(m);
      weight.push(w);
    }
    start.push(movie.length);
  }
  return { start: Int32Array.from(start), movie: Int32Array.from(movie), weight: Uint8Array.from(weight) };
}

/** The formula as the SQL build wrote it, pair by pair, over plain maps. */
function reference(lists: [number, number][][], ids: number[], k: number): Map<number, { c: number; sim: number }[]> {
  const users = new Map<number, number>();
  const wsum = new Map<number, number>();
  const co = new Map<string, number>();
  for (const l of lists)
    for (const [m, w] of l) {
      users.set(m, (users.get(m) ?? 0) + 1);
      wsum.set(m, (wsum.get(m) ?? 0) + w);
      for (const [c, wc] of l) if (c !== m) co.set(`${m},${c}`, (co.get(`${m},${c}`) ?? 0) + wc);
    }
  const out = new Map<number, { c: number; sim: number }[]>();
  for (const [key, n] of co) {
    const [i, c] = key.split(',').map(Number) as [number, number];
    const list = out.get(i) ?? [];
    list.push({ c, sim: decimal12(n / Math.sqrt(users.get(i)! * wsum.get(c)!)) });
    out.set(i, list);
  }
  for (const [i, list] of out) out.set(i, list.sort((a, b) => b.sim - a.sim || ids[a.c]! - ids[b.c]!).slice(0, k));
  return out;
}

/** A small deterministic generator (LCG): the same "random" histories every run. */
function histories(users: number, movies: number, seed: number): [number, number][][] {
  let s = seed;
  const next = (n: number) => ((s = (s * 1103515245 + 12345) % 2 ** 31), s % n);
  return Array.from({ length: users }, () => {
    const seen = new Set<number>();
    const len = 1 + next(12);
    while (seen.size < len) seen.add(next(movies));
    return [...seen].map((m): [number, number] => [m, 1 + next(2)]);
  });
}

describe('decimal12', () => {
  it('rounds as CAST(x AS DECIMAL(20,12)): the shortest decimal of x, half up', () => {
    expect(decimal12(1 / 3)).toBe(333_333_333_333);
    expect(decimal12(2 / 3)).toBe(666_666_666_667);
    // Stored in binary just below …0125; its shortest decimal is the half, which rounds up.
    expect(decimal12(0.1234567890125)).toBe(123_456_789_013);
    expect(decimal12(0.1234567890124999)).toBe(123_456_789_012);
    expect(decimal12(5e-13)).toBe(1);
    expect(decimal12(4.9e-13)).toBe(0);
    expect(decimal12(12.5)).toBe(12_500_000_000_000);
    expect(decimal12(0)).toBe(0);
  });
});

describe('TopK', () => {
  it('keeps the k highest values, the lower id first on a tie', () => {
    const ids = [50, 40, 30, 20, 10];
    const top = new TopK(3, ids);
    for (const [m, v] of [
      [0, 5],
      [1, 7],
      [2, 5],
      [3, 1],
      [4, 5],
    ] as const)
      top.offer(m, v);
    expect(top.drain()).toEqual([
      { movie: 1, value: 7 },
      { movie: 4, value: 5 },
      { movie: 2, value: 5 },
    ]);
  });
});

describe('itemNeighbours', () => {
  it('equals the pair-by-pair formula, neighbours ranked by sim then movie id', () => {
    const lists = histories(300, 40, 7);
    // Ids in an order unlike the indexes: ties must follow ids.
    const ids = Array.from({ length: 40 }, (_, m) => 1000 - 7 * m);
    const nb = itemNeighbours(rows(lists), ids, 5);
    const want = reference(lists, ids, 5);
    for (let i = 0; i < 40; i++) {
      const got = [];
      for (let p = nb.start[i]!; p < nb.start[i + 1]!; p++) got.push({ c: nb.movie[p]!, sim: nb.sim[p]! });
      expect(got).toEqual(want.get(i) ?? []);
    }
  });
});

describe('scoreTargets', () => {
  it('sums sim over the recent movies, leaves seen movies out, and names the strongest seen movie', () => {
    // Users 0–2 make 1 ~ 2 strong and 1 ~ 3 weaker; user 3 has seen 1 and must not get 4 (seen elsewhere).
    const hist = rows([
      [
        [1, 1],
        [2, 1],
        [3, 1],
      ],
      [
        [1, 1],
        [2, 1],
      ],
      [
        [0, 1],
        [3, 1],
        [4, 1],
      ],
      [
        [1, 1],
        [0, 1],
      ],
    ]);
    const ids = [10, 11, 12, 13, 14];
    const nb = itemNeighbours(hist, ids, 10);
    const got: ScoredPick[][] = [];
    scoreTargets(hist, nb, ids, [{ user: 3, seen: [1, 0, 4] }], 20, (_t, picks) => got.push(picks));
    const sim = (i: number, c: number) => nb.sim[nb.start[i]! + [...nb.movie.subarray(nb.start[i]!, nb.start[i + 1]!)].indexOf(c)]!;
    const want = [
      { movie: 2, score: sim(1, 2), reason: 1 },
      // On equal sims the lower movie id (10, index 0) is the reason.
      { movie: 3, score: sim(1, 3) + sim(0, 3), reason: sim(1, 3) > sim(0, 3) ? 1 : 0 },
    ].sort((a, b) => b.score - a.score || ids[a.movie]! - ids[b.movie]!);
    expect(got).toEqual([want]);
  });
});

describe('popularLists', () => {
  it('most viewed first (lower id on a tie), unseen only, among the top perUser + seenCount', () => {
    const counts = Int32Array.from([3, 9, 9, 1, 0]);
    const ids = [1, 3, 2, 4, 5];
    expect(popularLists(counts, ids, [{ user: 0, seen: [2], seenCount: 1 }], 2)).toEqual([[1, 0]]);
    // A like outside the history shrinks the list: the bound counts history rows only.
    expect(popularLists(counts, ids, [{ user: 0, seen: [2, 1], seenCount: 1 }], 2)).toEqual([[0]]);
  });
});
