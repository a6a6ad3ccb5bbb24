import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { MongoClient } from 'mongodb';
import { SNAPSHOT_IDS, type DashboardSnapshot, type RecommendationPointerDoc, type UserRecommendationsDoc } from '@tally/analytics';
import { createTempDatabase, migrateLatest, type TempDatabase } from '@tally/db';
import { createReadPathApp, readPathAppDigest, readPathData, readPathMapping } from '../fixtures/app-schema/read-path';
import { env, uniqueName } from '../helpers/env';
import { ServiceProcess } from '../helpers/process';
import { testPort } from '../helpers/services';

// query-api and snapshot-builder as real processes with CATALOG_MAPPING: a schema that does not
// match stops them with the check's own words on stderr; a matching one is what they read.
let app: TempDatabase;
let tally: TempDatabase;
let dir: string;
const prefix = `${uniqueName('t_rp')}:`;
const mongoUrl = `${env.MONGO_URL.replace(/\/[^/]*$/, '')}/${uniqueName('tally_rp')}`;
const procs: ServiceProcess[] = [];
const file = (name: string, doc: unknown) => {
  const path = join(dir, name);
  writeFileSync(path, typeof doc === 'string' ? doc : JSON.stringify(doc));
  return path;
};
const queryApi = (port: number, extra: Record<string, string>) => {
  const p = new ServiceProcess('services/query-api/dist/main.js', {
    PORT: String(port),
    LOG_LEVEL: 'info',
    MYSQL_URL: tally.url,
    MONGO_URL: mongoUrl,
    ADMIN_TOKENS: 'startup-test-token-0123',
    ...extra,
  });
  procs.push(p);
  return p;
};
const snapshotBuilder = (extra: Record<string, string>) => {
  const p = new ServiceProcess(
    'services/snapshot-builder/dist/main.js',
    {
      LOG_LEVEL: 'info',
      MYSQL_URL: tally.url,
      MONGO_URL: mongoUrl,
      TOPIC_PREFIX: `${uniqueName('t_rp')}.`,
      DLQ_COPY_TIMEOUT: '20s',
      ...extra,
    },
    ['--once'],
  );
  procs.push(p);
  return p;
};

beforeAll(async () => {
  app = await createTempDatabase(env.MYSQL_URL, 'app_start');
  await createReadPathApp(app.db, readPathData(Date.now()));
  tally = await createTempDatabase(env.MYSQL_URL, 'tally_start');
  await migrateLatest(tally.db);
  dir = mkdtempSync(join(tmpdir(), 'read-path-'));
}, 60_000);

afterAll(async () => {
  await Promise.all(procs.map((p) => p.kill()));
  const redis = new Redis(env.REDIS_URL);
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
  const mongo = new MongoClient(mongoUrl, { serverSelectionTimeoutMS: 3_000 });
  await mongo
    .db()
    .dropDatabase()
    .catch(() => undefined);
  await mongo.close();
  await Promise.all([app?.drop(), tally?.drop()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The schema report as plain lines (real newlines), not only as an escaped string inside a JSON log line. */
const PLAIN_REPORT =
  /start failed: CATALOG_MISMATCH: the app's schema \(app_start_\w+\) does not match the catalog mapping:\nproblem {2}jav\.code \(movies\.display\.code\) does not exist; fix: map movies\.display\.code to the app's column/;

describe('start-up with CATALOG_MAPPING', () => {
  it("every service refuses a schema the mapping does not describe: exit 2, the check's report on stderr, in the same words", async () => {
    const unmapped = file('unmapped.json', { database: app.name, redis: { prefix } });
    const q = queryApi(testPort(27100), { CATALOG_MAPPING: unmapped });
    const s = snapshotBuilder({ CATALOG_MAPPING: unmapped });
    // The counter, the flusher and es-sync read the same movies table: the same problem, the same words.
    const others = [
      ['services/counter/dist/main.js', []],
      ['services/flusher/dist/main.js', ['--once']],
      ['services/es-sync/dist/main.js', ['--once']],
    ].map(([entry, args], i) => {
      const p = new ServiceProcess(
        entry as string,
        {
          LOG_LEVEL: 'info',
          MYSQL_URL: tally.url,
          CATALOG_MAPPING: unmapped,
          TOPIC_PREFIX: `${uniqueName('t_rp')}.`,
          MANAGEMENT_PORT: String(testPort(27200) + i),
        },
        args as string[],
      );
      procs.push(p);
      return p;
    });
    for (const p of [q, s, ...others]) {
      expect({ exit: (await p.waitExit(60_000)).code, output: p.output.slice(-800) }).toMatchObject({ exit: 2 });
      expect(p.output).toMatch(PLAIN_REPORT);
      expect(p.output).toContain('run `tally adopt check` for the whole report');
    }
    // query-api never listened: the check runs before the server starts.
    expect(q.output).not.toContain('query-api listening');
  }, 90_000);

  it('a mapping file that is not valid, or a FEATURED_CACHE_TTL that contradicts it, is invalid configuration: exit 2 naming the variable', async () => {
    const bad = file('bad.json', { database: app.name, movies: { display: { code: 'dvd id' } } });
    const ok = file('ok.json', readPathMapping(app.name, prefix));
    const cases: [Record<string, string>, RegExp][] = [
      [{ CATALOG_MAPPING: file('broken.json', '{ "database": ') }, /CATALOG_MAPPING: .*broken\.json is not JSON/],
      [{ CATALOG_MAPPING: bad }, /CATALOG_MAPPING: .*bad\.json is invalid:\n\s+movies\.display\.code: must be a MySQL identifier/],
      [
        { CATALOG_MAPPING: ok, FEATURED_CACHE_TTL: '5m' },
        /FEATURED_CACHE_TTL: is deprecated and disagrees with the catalog mapping \(redis\.featuredTtlSeconds = 600\)/,
      ],
    ];
    for (const [extra, message] of cases) {
      const p = queryApi(testPort(27100) + 1, extra);
      expect({ extra, exit: (await p.waitExit()).code }).toEqual({ extra, exit: 2 });
      expect(p.output).toMatch(message);
    }
  }, 60_000);

  it("with the right mapping, query-api serves the app's featured items (a FEATURED_CACHE_TTL that agrees only warns) and snapshot-builder builds from the app", async () => {
    const mapping = file('app.json', readPathMapping(app.name, prefix));
    const port = testPort(27100) + 2;
    const q = queryApi(port, { CATALOG_MAPPING: mapping, FEATURED_CACHE_TTL: '10m' });
    const url = `http://127.0.0.1:${port}`;
    await q.until(async () => ((await fetch(`${url}/readyz`).catch(() => undefined))?.ok ? true : undefined), 30_000, `query-api ready`);
    const res = await fetch(`${url}/v1/featured?group=sidebar`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      group: 'sidebar',
      items: [
        expect.objectContaining({ id: 4, item_type: 'tag', item: { id: 4, name: 'tag-4' } }),
        expect.objectContaining({ id: 5, item: null }),
      ],
    });
    const redis = new Redis(env.REDIS_URL);
    expect(await redis.pttl(`${prefix}featured:group:sidebar`)).toBeGreaterThan(590_000);
    redis.disconnect();
    expect(q.output).toMatch(/FEATURED_CACHE_TTL is deprecated: the TTL comes from the catalog mapping/);
    q.signal('SIGTERM');
    expect((await q.waitExit()).code).toBe(0);

    const before = await readPathAppDigest(tally.db, app.name);
    const s = snapshotBuilder({ CATALOG_MAPPING: mapping });
    expect({ exit: (await s.waitExit(120_000)).code, output: s.output.slice(-1500) }).toMatchObject({ exit: 0 });
    const mongo = new MongoClient(mongoUrl);
    try {
      const snapshots = mongo.db().collection<{ _id: string }>('analytics_snapshots');
      const dash = (await snapshots.findOne({ _id: SNAPSHOT_IDS.dashboard })) as unknown as DashboardSnapshot;
      expect(dash.top_movies.all.by_views.length).toBeGreaterThan(0);
      for (const m of dash.top_movies.all.by_views) expect(m.code).toMatch(/^ABP-\d{3}$/);
      expect(dash.providers.map((p) => p.provider).sort()).toEqual(['Moodyz', 'Prestige', 'S1']);
      const pointer = (await snapshots.findOne({ _id: SNAPSHOT_IDS.recommendations })) as unknown as RecommendationPointerDoc;
      const user1 = await mongo
        .db()
        .collection<UserRecommendationsDoc>('recommendation_snapshots')
        .findOne({ generation: pointer.generation, user_id: 1 });
      expect(user1!.items.map((i) => i.jav_id)).toContain(9);
      expect(user1!.items.map((i) => i.jav_id)).not.toContain(10);
    } finally {
      await mongo.close();
    }
    expect(await readPathAppDigest(tally.db, app.name)).toEqual(before);
  }, 180_000);
});
