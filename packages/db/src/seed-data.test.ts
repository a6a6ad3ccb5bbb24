import { createHash } from 'node:crypto';
import { generateSeedRows, MAX_SEED_ENTITIES, SEED_EPOCH_MS, sqlDateTime, topK, type Row, type SeedOptions } from './seed-data';
import { validateSeedOptions } from './seed';
import { TAG_NAMES } from './seed-names';

const opts: SeedOptions = { movies: 3000, actors: 400, tags: 90, users: 200, seed: 11 };
const digest = (x: unknown): string => createHash('sha256').update(JSON.stringify(x)).digest('hex');

describe('generateSeedRows', () => {
  const rows = generateSeedRows(opts);

  it('is byte-identical for the same options and differs for another seed', () => {
    expect(digest(generateSeedRows(opts))).toBe(digest(rows));
    const other = generateSeedRows({ ...opts, seed: 12 });
    expect(digest(other.jav)).not.toBe(digest(rows.jav));
    expect(digest(other.jav_actors)).not.toBe(digest(rows.jav_actors));
  });

  it('keeps movies stable when only the number of actors changes (one stream per table)', () => {
    expect(digest(generateSeedRows({ ...opts, actors: 50 }).jav)).toBe(digest(rows.jav));
  });

  it('produces the requested counts with ids 1..N and unique codes, tag names and usernames', () => {
    expect(rows.jav.map((r) => r.id)).toEqual(Array.from({ length: opts.movies }, (_, i) => i + 1));
    expect(rows.actors).toHaveLength(opts.actors);
    expect(rows.users).toHaveLength(opts.users);
    expect(new Set(rows.jav.map((r) => r.code)).size).toBe(opts.movies);
    expect(new Set(rows.tags.map((r) => r.name)).size).toBe(opts.tags);
    expect(new Set(rows.users.map((r) => r.username)).size).toBe(opts.users);
    // More tags than the pool: numbered repeats, not collisions.
    expect(opts.tags).toBeGreaterThan(TAG_NAMES.length);
    expect(rows.tags.some((t) => / 2$/.test(String(t.name)))).toBe(true);
    expect(rows.jav[0]!.code).toMatch(/^[A-Z]{3}-\d{3,}$/);
  });

  it('links every movie to 1–4 distinct actors and 1–5 distinct tags that exist', () => {
    const perMovie = (links: Row[], col: string, maxLinks: number, maxId: number): void => {
      const by = new Map<number, number[]>();
      for (const l of links) by.set(Number(l.jav_id), [...(by.get(Number(l.jav_id)) ?? []), Number(l[col])]);
      expect(by.size).toBe(opts.movies);
      for (const ids of by.values()) {
        expect(ids.length).toBeGreaterThanOrEqual(1);
        expect(ids.length).toBeLessThanOrEqual(maxLinks);
        expect(new Set(ids).size).toBe(ids.length);
        expect(Math.min(...ids)).toBeGreaterThanOrEqual(1);
        expect(Math.max(...ids)).toBeLessThanOrEqual(maxId);
      }
    };
    perMovie(rows.jav_actors, 'actor_id', 4, opts.actors);
    perMovie(rows.jav_tags, 'tag_id', 5, opts.tags);
  });

  it('has a long-tail view distribution with downloads and likes below views', () => {
    const views = rows.jav.map((r) => Number(r.views)).sort((a, b) => a - b);
    const median = views[Math.floor(views.length / 2)]!;
    const mean = views.reduce((a, b) => a + b, 0) / views.length;
    expect(median).toBeLessThan(3000);
    expect(mean).toBeGreaterThan(20 * median);
    for (const r of rows.jav) {
      expect(Number(r.downloads)).toBeLessThanOrEqual(Number(r.views));
      expect(Number(r.likes)).toBeLessThanOrEqual(Number(r.views));
    }
  });

  it('features movies, actors and tags in groups; trending is the most viewed', () => {
    const groups = new Set(rows.featured_items.map((f) => f.group));
    expect(groups).toEqual(new Set(['home', 'trending', 'new-releases', 'actor-spotlight', 'popular-tags']));
    const trending = rows.featured_items.filter((f) => f.group === 'trending').map((f) => f.item_id);
    const top = [...rows.jav].sort((a, b) => Number(b.views) - Number(a.views) || Number(a.id) - Number(b.id)).slice(0, 10);
    expect(trending).toEqual(top.map((m) => m.id));
    expect(rows.featured_items.some((f) => f.active === false)).toBe(true);
    expect(rows.featured_items.filter((f) => f.item_type === 'actor').every((f) => Number(f.item_id) <= opts.actors)).toBe(true);
  });

  it('uses only timestamps derived from the fixed epoch', () => {
    expect(rows.jav[0]!.created_at).toBe(sqlDateTime(SEED_EPOCH_MS + 1000));
    expect(sqlDateTime(Date.UTC(2025, 0, 2, 3, 4, 5, 6))).toBe('2025-01-02 03:04:05.006');
    for (const r of rows.jav) expect(String(r.release_date) < '2025-01-01').toBe(true);
  });
});

describe('topK', () => {
  it('equals sorting and taking the first k, ties to the earlier row', () => {
    const rows: Row[] = Array.from({ length: 500 }, (_, i) => ({ id: i, v: (i * 7919) % 37 }));
    const expected = [...rows].sort((a, b) => Number(b.v) - Number(a.v) || Number(a.id) - Number(b.id)).slice(0, 10);
    expect(topK(rows, 10, (a, b) => Number(a.v) > Number(b.v))).toEqual(expected);
    expect(topK(rows.slice(0, 3), 10, (a, b) => Number(a.v) > Number(b.v))).toHaveLength(3);
  });
});

describe('validateSeedOptions', () => {
  it('rejects impossible sizes and seeds with a coded error', () => {
    expect(() => validateSeedOptions({ ...opts, movies: 0 })).toThrow(
      expect.objectContaining({ code: 'DB_SEED_INVALID', message: expect.stringMatching(/^movies must be/) }),
    );
    expect(() => validateSeedOptions({ ...opts, users: MAX_SEED_ENTITIES + 1 })).toThrow(/users must be/);
    expect(() => validateSeedOptions({ ...opts, seed: -1 })).toThrow(/seed must be/);
    expect(() => validateSeedOptions(opts)).not.toThrow();
  });
});
