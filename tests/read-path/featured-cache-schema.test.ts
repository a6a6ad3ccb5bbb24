import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import Redis from 'ioredis';
import { Catalog, DEMO_CATALOG, parseCatalogMapping } from '@tally/catalog';
import { createTempDatabase, migrateLatest, seedDemo, type TempDatabase } from '@tally/db';
import { FeaturedStore } from '@tally/query-api/featured';
import { createReadPathApp, readPathData, readPathMapping } from '../fixtures/app-schema/read-path';
import { env } from '../helpers/env';

// The payloads query-api really stores, for the demo schema and an app-shaped one, against the
// documented contract (docs/featured-cache.schema.json) with a maintained validator.
const schema = JSON.parse(readFileSync(resolve(__dirname, '../../docs/featured-cache.schema.json'), 'utf8')) as object;
const ajv = new Ajv2020({ allErrors: true, strict: true });
addFormats(ajv);
const validate = ajv.compile(schema);
const errors = () => ajv.errorsText(validate.errors);

// Real Redis, keys under a private prefix (ioredis applies it to commands and script KEYS alike).
const redis = new Redis({ keyPrefix: `t-featured-schema-${randomUUID()}:` });
let demo: TempDatabase;
let app: TempDatabase;

beforeAll(async () => {
  demo = await createTempDatabase(env.MYSQL_URL, 'tally_fcs');
  await migrateLatest(demo.db);
  await seedDemo(demo.db, { movies: 40, actors: 10, tags: 10, users: 5, seed: 3 });
  app = await createTempDatabase(env.MYSQL_URL, 'app_fcs');
  await createReadPathApp(app.db, readPathData(Date.now()));
}, 60_000);

afterAll(async () => {
  const keys = await redis.keys(`${redis.options.keyPrefix}*`);
  if (keys.length) await redis.del(...keys.map((k) => k.slice(redis.options.keyPrefix!.length)));
  redis.disconnect();
  await demo?.drop();
  await app?.drop();
});

/** Every payload the store writes for these groups: the all-groups key and each group's key, as stored. */
async function storedPayloads(store: FeaturedStore, catalog: Catalog, groups: string[]): Promise<unknown[][]> {
  await store.list(undefined);
  for (const g of groups) await store.list(g);
  const raw = await Promise.all([catalog.keys.featuredAll, ...groups.map((g) => catalog.keys.featuredGroup(g))].map((k) => redis.get(k)));
  expect(raw.every((r) => r !== null)).toBe(true);
  return raw.map((r) => JSON.parse(r!) as unknown[]);
}

describe('the featured-cache payload matches docs/featured-cache.schema.json', () => {
  it('demo schema: movies, actors and tags, expiring items, and a featured movie the app deleted', async () => {
    const deleted = await demo.db('featured_items').where({ item_type: 'movie', active: true }).whereNull('expires_at').first('item_id');
    await demo.db('jav').where({ id: deleted.item_id }).delete();
    // The seed's expiring items expired long ago; one that expires tomorrow is in the payload.
    const expiring = await demo
      .db('featured_items')
      .where({ active: true })
      .whereNull('expires_at')
      .whereNot({ item_id: deleted.item_id })
      .first('id');
    await demo
      .db('featured_items')
      .where({ id: expiring.id })
      .update({ expires_at: new Date(Date.now() + 86_400_000) });
    const groups = (await demo.db('featured_items').distinct('group').pluck('group')) as string[];
    const store = new FeaturedStore(redis, demo.db, DEMO_CATALOG);
    const payloads = await storedPayloads(store, DEMO_CATALOG, groups);
    for (const p of payloads) expect({ valid: validate(p), errors: errors() }).toEqual({ valid: true, errors: 'No errors' });
    // Not vacuous: every kind, a null item and an expiry are in what was validated.
    const all = payloads[0] as { item_type: string; item: unknown; expires_at: string | null }[];
    expect(new Set(all.map((i) => i.item_type))).toEqual(new Set(['movie', 'actor', 'tag']));
    expect(all.some((i) => i.item === null)).toBe(true);
    expect(all.some((i) => i.expires_at !== null)).toBe(true);
  });

  it("app schema through a mapping: class-name item types, a decimal rank, no release date, the app's prefix", async () => {
    const catalog = new Catalog(parseCatalogMapping(readPathMapping(app.name, 'shop:')));
    const payloads = await storedPayloads(new FeaturedStore(redis, app.db, catalog), catalog, ['home', 'sidebar']);
    for (const p of payloads) expect({ valid: validate(p), errors: errors() }).toEqual({ valid: true, errors: 'No errors' });
    const home = payloads[1] as { rank: number; item_type: string; item: { release_date?: unknown } | null }[];
    expect(home.map((i) => i.rank)).toEqual([1.5, 2, 3]);
    expect(home.map((i) => i.item_type)).toEqual(['movie', 'movie', 'actor']);
    expect(home[0]!.item).toMatchObject({ code: 'ABP-101', provider: 'S1', release_date: null });
    expect(await redis.exists('shop:featured:all')).toBe(1);
  });

  it('the schema refuses what a reader could not rely on', () => {
    const movie = {
      id: 1,
      item_type: 'movie',
      item_id: 1,
      group: 'home',
      rank: 1,
      expires_at: null,
      item: { id: 1, code: 'A', title: 'T', provider: null, release_date: null, views: 1, downloads: 0, likes: 0 },
    };
    expect(validate([movie])).toBe(true);
    const bad: [string, unknown][] = [
      ['an app column name instead of code', { ...movie, item: { ...movie.item, code: undefined, dvd_id: 'A' } }],
      ['an app item type', { ...movie, item_type: 'App\\Models\\Jav' }],
      ['a movie typed as an actor', { ...movie, item_type: 'actor' }],
      ['a non-ISO expiry', { ...movie, expires_at: '2026-13-01 00:00' }],
      ['a missing field', { ...movie, expires_at: undefined }],
      ['a count as text', { ...movie, item: { ...movie.item, views: '1' } }],
    ];
    for (const [what, item] of bad) expect({ what, valid: validate(JSON.parse(JSON.stringify([item]))) }).toEqual({ what, valid: false });
  });
});
