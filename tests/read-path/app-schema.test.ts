import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import type { Knex } from 'knex';
import { AnalyticsReader, buildRecommendations, computeDashboard, evaluateRecommendations } from '@tally/analytics';
import { assertCatalog, Catalog, DEMO_CATALOG, parseCatalogMapping } from '@tally/catalog';
import { createTempDatabase, migrateLatest, seedDemo, type TempDatabase } from '@tally/db';
import { createLogger } from '@tally/runtime';
import { CountsStore } from '@tally/query-api/counts';
import { FeaturedStore } from '@tally/query-api/featured';
import { HistoryStore } from '@tally/query-api/history';
import { CATALOG_PARTS as QUERY_API_PARTS } from '@tally/query-api/app';
import { CATALOG_PARTS as SNAPSHOT_PARTS } from '@tally/snapshot-builder/build';
import {
  createReadPathApp,
  DELETED_MOVIE,
  readPathAppDigest,
  readPathData,
  readPathMapping,
  writeDemoShape,
  type ReadPathData,
} from '../fixtures/app-schema/read-path';
import { env } from '../helpers/env';

// The read path and the analytics over an app-shaped schema in its own database, through a catalog
// mapping. Tally's own database holds a seeded DEMO catalog as decoys: a reader that ignored the
// mapping would read those. The oracle is a third database with the same data in the demo schema.
const logger = createLogger({ service: 'read-path-test', level: 'silent' });
const now = new Date();
const data: ReadPathData = readPathData(now.getTime());
const redis = new Redis({ keyPrefix: `t-read-path-${randomUUID()}:` });
let app: TempDatabase;
let tally: TempDatabase;
let oracle: TempDatabase;
let catalog: Catalog;
let before: Awaited<ReturnType<typeof readPathAppDigest>>;

/** The same raw logs (Tally's own tables) in both Tally databases; movie 99 is not in the catalog. */
async function rawLogs(db: Knex): Promise<void> {
  const ev = (i: number, hoursAgo: number) => ({
    event_id: randomUUID(),
    user_id: 1 + (i % 6),
    is_bot: i % 9 === 0,
    occurred_at: new Date(now.getTime() - hoursAgo * 3_600_000),
    received_at: now,
  });
  const movie = (i: number) => (i % 17 === 0 ? DELETED_MOVIE : 1 + ((i * i) % 12));
  await db('view_events').insert(Array.from({ length: 300 }, (_, i) => ({ ...ev(i, (i * 7) % 900), jav_id: movie(i) })));
  await db('download_events').insert(Array.from({ length: 80 }, (_, i) => ({ ...ev(i, (i * 13) % 900), jav_id: movie(i + 3) })));
  await db('actor_view_events').insert(Array.from({ length: 60 }, (_, i) => ({ ...ev(i, i * 5), actor_id: 1 + (i % 5) })));
  await db('tag_view_events').insert(Array.from({ length: 60 }, (_, i) => ({ ...ev(i, i * 5), tag_id: 1 + ((i * 3) % 5) })));
  await db('recommendation_click_events').insert(
    Array.from({ length: 20 }, (_, i) => ({ ...ev(i, i * 3), jav_id: movie(i), reason: i % 2 ? 'popular' : `co_viewed:${1 + (i % 4)}` })),
  );
}

beforeAll(async () => {
  app = await createTempDatabase(env.MYSQL_URL, 'app_read');
  await createReadPathApp(app.db, data);
  tally = await createTempDatabase(env.MYSQL_URL, 'tally_read');
  await migrateLatest(tally.db);
  await seedDemo(tally.db, { movies: 12, actors: 5, tags: 5, users: 10, seed: 8 });
  await tally.db('user_jav_history').insert([
    { user_id: 1, jav_id: 9, view_count: 3, last_viewed_at: now },
    { user_id: 2, jav_id: 11, view_count: 1, last_viewed_at: now },
  ]);
  await tally.db('user_interactions').insert({ user_id: 1, jav_id: 4, liked: true });
  await rawLogs(tally.db);
  oracle = await createTempDatabase(env.MYSQL_URL, 'tally_oracle');
  await migrateLatest(oracle.db);
  await writeDemoShape(oracle.db, data);
  await rawLogs(oracle.db);
  catalog = new Catalog(parseCatalogMapping({ ...readPathMapping(app.name), redis: { prefix: 'shop:', featuredTtlSeconds: 120 } }));
  before = await readPathAppDigest(tally.db, app.name);
}, 90_000);

afterAll(async () => {
  const keys = await redis.keys(`${redis.options.keyPrefix}*`);
  if (keys.length) await redis.del(...keys.map((k) => k.slice(redis.options.keyPrefix!.length)));
  redis.disconnect();
  await Promise.all([app?.drop(), tally?.drop(), oracle?.drop()]);
});

describe('the read path through the catalog mapping, over an app-shaped schema', () => {
  it('the app schema passes the start-up check for every part query-api and snapshot-builder read; the demo mapping does not', async () => {
    await expect(assertCatalog(tally.db, catalog, [...new Set([...QUERY_API_PARTS, ...SNAPSHOT_PARTS])])).resolves.toBeUndefined();
    const unmapped = new Catalog(parseCatalogMapping({ database: app.name }));
    await expect(assertCatalog(tally.db, unmapped, QUERY_API_PARTS)).rejects.toThrow(
      /jav\.code \(movies\.display\.code\) does not exist; fix: map movies\.display\.code/,
    );
  });

  it("featured: active, unexpired items of the mapped kinds in rank order, named as Tally names them, cached with the mapping's TTL", async () => {
    const store = new FeaturedStore(redis, tally.db, catalog);
    const { items, cached } = await store.list(undefined);
    expect(cached).toBe(false);
    const movie = (id: number) => {
      const m = data.movies.find((x) => x.id === id)!;
      return {
        id,
        code: m.code,
        title: m.title,
        provider: m.provider,
        release_date: null,
        views: m.views,
        downloads: m.downloads,
        likes: m.likes,
      };
    };
    expect(items.map(({ id, item_type, item_id, group, rank, item }) => ({ id, item_type, item_id, group, rank, item }))).toEqual([
      { id: 2, item_type: 'movie', item_id: 1, group: 'home', rank: 1.5, item: movie(1) },
      { id: 1, item_type: 'movie', item_id: 3, group: 'home', rank: 2, item: movie(3) },
      { id: 3, item_type: 'actor', item_id: 2, group: 'home', rank: 3, item: { id: 2, name: 'Stage name 2' } },
      { id: 4, item_type: 'tag', item_id: 4, group: 'sidebar', rank: 1, item: { id: 4, name: 'tag-4' } },
      { id: 5, item_type: 'movie', item_id: DELETED_MOVIE, group: 'sidebar', rank: 2, item: null },
    ]);
    expect(items[0]!.expires_at).toBe(data.featured.find((f) => f.id === 2)!.expiresAt!.toISOString());
    expect((await store.list('sidebar')).items.map((i) => i.id)).toEqual([4, 5]);
    expect((await store.list(undefined)).cached).toBe(true);
    const ttl = await redis.pttl('shop:featured:all');
    expect(ttl).toBeGreaterThan(110_000);
    expect(ttl).toBeLessThanOrEqual(120_000);
    expect(await redis.exists('shop:featured:group:sidebar', 'jav:featured:all')).toBe(1);
  });

  it('featured: an app without active or expiry columns (mapped to null) has nothing filtered on them', async () => {
    const doc = readPathMapping(app.name, 'nofilter:') as { featured: Record<string, unknown> };
    const open = new Catalog(parseCatalogMapping({ ...doc, featured: { ...doc.featured, active: null, expiresAt: null } }));
    const { items } = await new FeaturedStore(redis, tally.db, open).list('home');
    expect(items.map((i) => [i.id, i.expires_at])).toEqual([
      [2, null],
      [1, null],
      [3, null],
      [6, null],
      [7, null],
    ]);
  });

  it("counts: seeded from the app's movies table plus pending deltas, under the app's prefix; an unknown movie is 404", async () => {
    const store = new CountsStore(redis, tally.db, catalog);
    const m3 = data.movies[2]!;
    expect(await store.get(3)).toEqual({
      jav_id: 3,
      views: m3.views,
      downloads: m3.downloads,
      likes: m3.likes,
      rating_count: 0,
      rating_avg: null,
      watchlists: 0,
    });
    expect(await redis.mget('shop:views:3', 'shop:downloads:3', 'shop:likes:3')).toEqual([m3.views, m3.downloads, m3.likes].map(String));
    await redis.hset('tally:counter:pending', 'views:4', '5');
    expect((await store.get(4)).views).toBe(data.movies[3]!.views + 5);
    await expect(store.get(DELETED_MOVIE)).rejects.toMatchObject({ code: 'MOVIE_NOT_FOUND', httpStatus: 404 });
  });

  it("history: the app's columns under the API's names, newest first; columns the app lacks are null; users from the app's table", async () => {
    const store = new HistoryStore(tally.db, catalog);
    const mine = data.history.filter((h) => h.user === 2).sort((a, b) => b.last.getTime() - a.last.getTime());
    const page = await store.page(2, 2, 0);
    expect(page).toEqual({
      user_id: 2,
      limit: 2,
      offset: 0,
      next_offset: 2,
      items: mine.slice(0, 2).map((h) => ({
        jav_id: h.movie,
        code: data.movies[h.movie - 1]!.code,
        title: data.movies[h.movie - 1]!.title,
        view_count: h.views,
        first_viewed_at: h.first.toISOString(),
        last_viewed_at: h.last.toISOString(),
        downloaded: h.downloads > 0,
        download_count: h.downloads,
        last_downloaded_at: null,
      })),
    });
    expect((await store.page(2, 10, 2)).items.map((i) => i.jav_id)).toEqual(mine.slice(2).map((h) => h.movie));
    await expect(store.assertUser(7)).resolves.toBeUndefined(); // an account without history
    await expect(store.assertUser(9)).rejects.toMatchObject({ code: 'USER_NOT_FOUND' }); // only a decoy has 9
  });

  it("dashboard: every figure equals the same data read in the demo schema, with the app's codes, makers and stage names", async () => {
    const fromApp = await computeDashboard(tally.db, catalog, now);
    expect(fromApp).toEqual(await computeDashboard(oracle.db, DEMO_CATALOG, now));
    const codes = new Set(data.movies.map((m) => m.code));
    for (const w of ['24h', '7d', '30d', 'all'] as const) {
      expect(fromApp.top_movies[w].by_views.length).toBeGreaterThan(0);
      for (const m of fromApp.top_movies[w].by_views) expect(codes.has(m.code)).toBe(true);
    }
    expect(fromApp.providers.map((p) => p.provider).sort()).toEqual(['Moodyz', 'Prestige', 'S1']);
    expect(fromApp.top_actors.map((a) => a.name).sort()).toEqual(['Stage name 1', 'Stage name 2', 'Stage name 3', 'Stage name 4']);
    const reader = new AnalyticsReader({ mysql: tally.db, catalog, logger });
    const fallback = await reader.dashboard();
    expect(fallback.source).toBe('mysql_fallback');
    expect(fallback.snapshot.top_movies.all).toEqual(fromApp.top_movies.all);
  });

  it("recommendations: likes are the app's favorite rows (ratings are not), and the lists equal the demo-schema ones", async () => {
    const fromApp = await buildRecommendations(tally.db, catalog, now);
    expect(fromApp).toEqual(await buildRecommendations(oracle.db, DEMO_CATALOG, now));
    const user1 = fromApp.users.find((u) => u.user_id === 1)!.items.map((i) => i.jav_id);
    expect(user1).toContain(9); // only rated: not seen
    expect(user1).not.toContain(10); // favorited: seen
    for (const seen of [1, 2, 3]) expect(user1).not.toContain(seen);
    expect(await evaluateRecommendations(tally.db, catalog, now)).toEqual(await evaluateRecommendations(oracle.db, DEMO_CATALOG, now));
    // The popularity fallback ranks the app's movies by the app's view counts.
    const reader = new AnalyticsReader({ mysql: tally.db, catalog, logger });
    const byViews = [...data.movies].sort((a, b) => b.views - a.views || a.id - b.id).map((m) => m.id);
    expect((await reader.recommendations(7, 5)).items.map((i) => i.jav_id)).toEqual(byViews.slice(0, 5));
  });

  it("changed no row of the app's tables", async () => {
    expect(await readPathAppDigest(tally.db, app.name)).toEqual(before);
  });
});
