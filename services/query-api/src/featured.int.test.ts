import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import knex from 'knex';
import { DEMO_CATALOG } from '@tally/catalog';
import { FeaturedStore, type FeaturedItem } from './featured';

// Real Redis; keys under a private prefix (ioredis applies it to commands and script KEYS alike).
const redis = new Redis({ keyPrefix: `t-featured-${randomUUID()}:` });
const db = knex({ client: 'mysql2' }); // never connects: load() is replaced below
afterAll(async () => {
  const keys = await redis.keys(`${redis.options.keyPrefix}*`);
  if (keys.length) await redis.del(...keys.map((k) => k.slice(redis.options.keyPrefix!.length)));
  redis.disconnect();
  await db.destroy();
});

const item = (rank: number): FeaturedItem => ({
  id: rank,
  item_type: 'movie',
  item_id: rank,
  group: 'home',
  rank,
  expires_at: null,
  item: null,
});

describe("featured cache-aside and the counter's invalidation", () => {
  it('a rebuild that read MySQL before an invalidation does not store its (old) list', async () => {
    const store = new FeaturedStore(redis, db, DEMO_CATALOG);
    // The counter invalidates while this rebuild is reading MySQL: delete + version bump, as its sink does.
    (store as unknown as { load: () => Promise<FeaturedItem[]> }).load = async () => {
      await redis.multi().del(DEMO_CATALOG.keys.featuredGroup('home')).incr(DEMO_CATALOG.keys.featuredVersion).exec();
      return [item(1)];
    };
    const first = await store.list('home');
    expect(first).toEqual({ items: [item(1)], cached: false });
    expect(await redis.get(DEMO_CATALOG.keys.featuredGroup('home'))).toBeNull();

    // No invalidation during the next rebuild: it is stored and then served from the cache.
    (store as unknown as { load: () => Promise<FeaturedItem[]> }).load = async () => [item(2)];
    expect(await store.list('home')).toEqual({ items: [item(2)], cached: false });
    expect(await store.list('home')).toEqual({ items: [item(2)], cached: true });
    expect(Number(await redis.pttl(DEMO_CATALOG.keys.featuredGroup('home')))).toBeGreaterThan(590_000);
  });
});
