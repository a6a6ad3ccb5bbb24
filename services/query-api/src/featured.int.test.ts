import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import knex from 'knex';
import { DEFAULT_APP_KEYS } from '@tally/layout';
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

const item = (rank: number): FeaturedItem => ({ id: rank, item_type: 'movie', item_id: rank, group: 'home', rank, expires_at: null, item: null });

describe('featured cache-aside and the counter\'s invalidation', () => {
  it('a rebuild that read MySQL before an invalidation does not store its (old) list', async () => {
    const store = new FeaturedStore(redis, db, 600_000);
    // The counter invalidates while this rebuild is reading MySQL: delete + version bump, as its sink does.
    (store as unknown as { load: () => Promise<FeaturedItem[]> }).load = async () => {
      await redis.multi().del(DEFAULT_APP_KEYS.featuredGroup('home')).incr(DEFAULT_APP_KEYS.featuredVersion).exec();
      return [item(1)];
    };
    const first = await store.list('home');
    expect(first).toEqual({ items: [item(1)], cached: false });
    expect(await redis.get(DEFAULT_APP_KEYS.featuredGroup('home'))).toBeNull();

    // No invalidation during the next rebuild: it is stored and then served from the cache.
    (store as unknown as { load: () => Promise<FeaturedItem[]> }).load = async () => [item(2)];
    expect(await store.list('home')).toEqual({ items: [item(2)], cached: false });
    expect(await store.list('home')).toEqual({ items: [item(2)], cached: true });
    expect(Number(await redis.pttl(DEFAULT_APP_KEYS.featuredGroup('home')))).toBeGreaterThan(590_000);
  });
});
