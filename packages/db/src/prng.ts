/**
 * A tiny seeded PRNG for the demo seeder. mulberry32: 32-bit state, period 2^32, passes
 * PractRand up to 2^32 outputs — plenty for a few million draws, and exactly reproducible because
 * it uses only 32-bit integer operations (Math.imul, shifts), never the platform's Math.random.
 */
export type Rng = () => number;

export function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a over the UTF-16 code units: turns (seed, stream name) into a 32-bit state. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * One independent stream per table, so changing --actors does not reshuffle every movie title:
 * each stream depends only on the seed and its own name.
 */
export function rngFor(seed: number, stream: string): Rng {
  return mulberry32(hash32(`${seed >>> 0}:${stream}`));
}

/** Whole number in [min, max], both inclusive. */
export function intBetween(rng: Rng, min: number, max: number): number {
  return min + Math.floor(rng() * (max - min + 1));
}

export function pick<T>(rng: Rng, items: readonly T[]): T {
  if (items.length === 0) throw new RangeError('pick from an empty list');
  return items[Math.floor(rng() * items.length)]!;
}

/** x^k by repeated multiplication: exact IEEE results on every platform, unlike Math.pow. */
export function powInt(x: number, k: number): number {
  let p = 1;
  for (let i = 0; i < k; i++) p *= x;
  return p;
}

/**
 * `count` distinct whole numbers in [0, n), skewed towards small ones by `skew` (u^skew): with
 * skew 2 the first 10% of ids draw ~32% of the picks, which gives "popular" actors and tags.
 * Returned in ascending order so the rows come out sorted by key.
 */
export function distinctSkewed(rng: Rng, n: number, count: number, skew: number): number[] {
  const want = Math.min(count, n);
  const chosen = new Set<number>();
  // Rejection sampling stays cheap while want ≤ n/2; past that, fill the rest in order.
  let attempts = 0;
  while (chosen.size < want && attempts < want * 20) {
    chosen.add(Math.floor(powInt(rng(), skew) * n));
    attempts++;
  }
  for (let i = 0; chosen.size < want; i++) chosen.add(i);
  return [...chosen].sort((a, b) => a - b);
}
