import { distinctSkewed, intBetween, pick, powInt, rngFor, type Rng } from './prng';
import {
  FAMILY_NAMES,
  FEATURED_GROUPS,
  GIVEN_NAMES,
  PROVIDERS,
  TAG_NAMES,
  TITLE_ADJECTIVES,
  TITLE_NOUNS,
  TITLE_PLACES,
} from './seed-names';

/** Pure row generation for the demo seeder: same options ⇒ the same rows, no clock, no Math.random. */
export interface SeedOptions {
  movies: number;
  actors: number;
  tags: number;
  users: number;
  /** 32-bit unsigned: mulberry32's whole state, so larger seeds would silently alias smaller ones. */
  seed: number;
}

/** All rows are generated in memory first: 100k movies (≈666k rows) peaked at 196 MB RSS, so 1M is the sane ceiling. */
export const MAX_SEED_ENTITIES = 1_000_000;

/** Every generated timestamp is an offset from this instant, never from "now". */
export const SEED_EPOCH_MS = Date.UTC(2025, 0, 1);
const DAY_MS = 86_400_000;
// Release dates spread over the 20 years before the epoch.
const RELEASE_SPAN_DAYS = 7305;
// Long tail: views = 2M × u^12 → median ≈ 490 (0.5^12 × 2M), top 10% above ≈ 565k, top 1% above ≈ 1.77M.
const MAX_VIEWS = 2_000_000;
const VIEWS_TAIL_POWER = 12;

/** Plain SQL literals only: DATETIME values are pre-formatted UTC strings, so rows compare byte for byte. */
export type Row = Record<string, string | number | boolean | null>;
export interface SeedRows {
  jav: Row[];
  actors: Row[];
  tags: Row[];
  jav_actors: Row[];
  jav_tags: Row[];
  users: Row[];
  featured_items: Row[];
}

/** 'YYYY-MM-DD HH:MM:SS.mmm' in UTC: what DATETIME(3) stores, no time-zone conversion on the way in. */
export const sqlDateTime = (ms: number): string => new Date(ms).toISOString().slice(0, 23).replace('T', ' ');
const at = sqlDateTime;

// 7,305 possible release dates, formatted once instead of once per movie.
const releaseDates: string[] = [];
function releaseDate(daysBeforeEpoch: number): string {
  return (releaseDates[daysBeforeEpoch] ??= sqlDateTime(SEED_EPOCH_MS - daysBeforeEpoch * DAY_MS).slice(0, 10));
}

function title(rng: Rng): string {
  const adj = pick(rng, TITLE_ADJECTIVES);
  const noun = pick(rng, TITLE_NOUNS);
  const shapes = [
    () => `${adj} ${noun}`,
    () => `The ${adj} ${noun} of ${pick(rng, TITLE_PLACES)}`,
    () => `${noun} in ${pick(rng, TITLE_PLACES)}`,
    () => `${adj} ${noun} Vol. ${intBetween(rng, 2, 9)}`,
  ];
  return pick(rng, shapes)();
}

export function generateMovies(o: SeedOptions): Row[] {
  const rng = rngFor(o.seed, 'jav');
  const nextNumber = new Map<string, number>();
  const rows: Row[] = [];
  for (let id = 1; id <= o.movies; id++) {
    const provider = pick(rng, PROVIDERS);
    const label = pick(rng, provider.labels);
    // Sequential numbers per label make every code unique by construction (no retry loop).
    const n = (nextNumber.get(label) ?? intBetween(rng, 1, 300)) + 1;
    nextNumber.set(label, n);
    const views = Math.floor(MAX_VIEWS * powInt(rng(), VIEWS_TAIL_POWER));
    const created = at(SEED_EPOCH_MS + id * 1000);
    rows.push({
      id,
      code: `${label}-${String(n).padStart(3, '0')}`,
      title: title(rng),
      provider: provider.name,
      release_date: releaseDate(intBetween(rng, 1, RELEASE_SPAN_DAYS)),
      views,
      downloads: Math.floor(views * (0.02 + 0.08 * rng())),
      likes: Math.floor(views * (0.01 + 0.04 * rng())),
      // Stamped so es-sync's first watermark scan picks every seeded movie up.
      counts_updated_at: created,
      created_at: created,
      updated_at: created,
    });
  }
  return rows;
}

function personName(rng: Rng): [string, string] {
  return [pick(rng, GIVEN_NAMES), pick(rng, FAMILY_NAMES)];
}

export function generateActors(o: SeedOptions): Row[] {
  const rng = rngFor(o.seed, 'actors');
  return Array.from({ length: o.actors }, (_, i) => {
    const [given, family] = personName(rng);
    return { id: i + 1, name: `${given} ${family}`, created_at: at(SEED_EPOCH_MS - (o.actors - i) * 1000), updated_at: at(SEED_EPOCH_MS) };
  });
}

export function generateTags(o: SeedOptions): Row[] {
  // The pool is shuffled per seed; past its size a number keeps names unique ("Drama 2").
  const rng = rngFor(o.seed, 'tags');
  const pool: string[] = [...TAG_NAMES];
  for (let i = pool.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [pool[i], pool[j]] = [pool[j]!, pool[i]!];
  }
  return Array.from({ length: o.tags }, (_, i) => {
    const round = Math.floor(i / pool.length);
    const base = pool[i % pool.length]!;
    return { id: i + 1, name: round === 0 ? base : `${base} ${round + 1}`, created_at: at(SEED_EPOCH_MS), updated_at: at(SEED_EPOCH_MS) };
  });
}

/** Each movie gets min..max distinct linked ids, skewed so a few actors/tags are popular. */
function links(o: SeedOptions, stream: string, column: string, n: number, min: number, max: number): Row[] {
  const rng = rngFor(o.seed, stream);
  const rows: Row[] = [];
  for (let jav = 1; jav <= o.movies; jav++) {
    for (const idx of distinctSkewed(rng, n, intBetween(rng, min, max), 2)) rows.push({ jav_id: jav, [column]: idx + 1 });
  }
  return rows;
}

export function generateUsers(o: SeedOptions): Row[] {
  const rng = rngFor(o.seed, 'users');
  return Array.from({ length: o.users }, (_, i) => {
    const [given, family] = personName(rng);
    // The id suffix keeps usernames unique however many users share a name.
    const username = `${given.toLowerCase()}_${family.toLowerCase()}${i + 1}`;
    const created = SEED_EPOCH_MS - intBetween(rng, 1, 3 * 365) * DAY_MS;
    return { id: i + 1, username, email: `${username}@example.test`, created_at: at(created), updated_at: at(created) };
  });
}

/** The k best rows in one pass: O(n·k) with k ≤ 10, instead of sorting 100k rows (~300 ms each). */
export function topK(rows: readonly Row[], k: number, better: (a: Row, b: Row) => boolean): Row[] {
  const best: Row[] = [];
  for (const row of rows) {
    if (best.length === k && !better(row, best[k - 1]!)) continue;
    let i = best.length;
    while (i > 0 && better(row, best[i - 1]!)) i--;
    best.splice(i, 0, row);
    if (best.length > k) best.pop();
  }
  return best;
}

export function generateFeatured(o: SeedOptions, movies: readonly Row[]): Row[] {
  const rng = rngFor(o.seed, 'featured');
  // Ties go to the lower id (movies are in id order and only a strictly better one displaces).
  const byViews = topK(movies, FEATURED_GROUPS.trending.size, (a, b) => Number(a.views) > Number(b.views));
  const byRelease = topK(movies, FEATURED_GROUPS['new-releases'].size, (a, b) => a.release_date! > b.release_date!);
  const rows: Row[] = [];
  for (const [group, spec] of Object.entries(FEATURED_GROUPS)) {
    const pool = spec.itemType === 'actor' ? o.actors : spec.itemType === 'tag' ? o.tags : o.movies;
    let ids: number[];
    if (group === 'trending') ids = byViews.slice(0, spec.size).map((m) => Number(m.id));
    else if (group === 'new-releases') ids = byRelease.slice(0, spec.size).map((m) => Number(m.id));
    else ids = distinctSkewed(rng, pool, spec.size, 1).map((i) => i + 1);
    ids.forEach((itemId, rank) => {
      // The last slot of each group is switched off and one expires a week after the epoch, so the
      // demo exercises active/expiry filtering.
      const active = rank < ids.length - 1 || ids.length === 1;
      const expires = rank === 1 ? at(SEED_EPOCH_MS + 7 * DAY_MS) : null;
      const stamp = at(SEED_EPOCH_MS + rows.length * 1000);
      rows.push({
        id: rows.length + 1,
        item_type: spec.itemType,
        item_id: itemId,
        group,
        rank: rank + 1,
        active,
        expires_at: expires,
        created_at: stamp,
        updated_at: stamp,
      });
    });
  }
  return rows;
}

export function generateSeedRows(o: SeedOptions): SeedRows {
  const jav = generateMovies(o);
  return {
    jav,
    actors: generateActors(o),
    tags: generateTags(o),
    jav_actors: links(o, 'jav_actors', 'actor_id', o.actors, 1, 4),
    jav_tags: links(o, 'jav_tags', 'tag_id', o.tags, 1, 5),
    users: generateUsers(o),
    featured_items: generateFeatured(o, jav),
  };
}
