import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import Redis from 'ioredis';
import { MongoClient } from 'mongodb';
import { createElasticsearchClient } from '@tally/clients';
import { createTempDatabase, type TempDatabase } from '@tally/db';
import { eventDefinitions, type EventType, type TopicNames } from '@tally/events';
import { SNAPSHOT_IDS } from '@tally/analytics';
import { env, eventually, uniqueName } from '../helpers/env';
import { deleteTopics } from '../helpers/kafka';
import { LikeOracle, STATE_METRICS } from '../helpers/likes';
import { endOffsets, isolatedTopics } from '../helpers/pipeline';
import { ServiceProcess } from '../helpers/process';
import { startIngest, testPort } from '../helpers/services';
import { APP_TABLES, appMappingDocument, createAppSchema, snapshotApp, writeAppMapping, type AppTable } from '../fixtures/app-schema/adopt';

// Issue #14's whole pipeline on the app-shaped fixture (dvd_id, maker, `action` interaction rows, a
// history table with its own columns and key, morph class names, a foreign search index with other
// fields): check → apply → backfill → ingest → every consumer → flush → es-sync → snapshot → query API.
// Exact figures against an oracle, and every app column Tally does not own byte for byte as it was.

const ROOT = resolve(__dirname, '../..');
const UA = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';
const MOVIES = 30;
const id = randomUUID().replace(/-/g, '').slice(0, 10);
const esPrefix = `adopt_${id}_`;
const mongoUrl = `${env.MONGO_URL.replace(/\/[^/]*$/, '')}/tally_adopt_${id}`;
const es = createElasticsearchClient({ url: env.ES_URL, flavor: env.ES_FLAVOR });
const procs: ServiceProcess[] = [];
let tally: TempDatabase;
let app: TempDatabase;
let names: TopicNames;
let redis: Redis;
let redisUrl: string;
let mapping: string;
let common: Record<string, string>;
let before: Record<AppTable, { columns: string[] }>;
const oracle = new LikeOracle();
const sent = { views: new Map<number, number>(), downloads: new Map<number, number>(), history: new Map<string, number>() };
const counts: Record<string, number> = {};
/** The app's counter columns Tally adds to after the cut-over (mapped movies.counts.views/downloads). */
const APP_COUNTERS = new Set(['views', 'downloads']);

function cli(...args: string[]): string {
  return execFileSync(process.execPath, [resolve(ROOT, 'packages/cli/dist/bin.js'), ...args], {
    env: { ...process.env, ...common },
    encoding: 'utf8',
  });
}

function job(entry: string, ...args: string[]): void {
  execFileSync(process.execPath, [resolve(ROOT, entry), '--once', ...args], {
    env: { ...process.env, ...common, LOG_LEVEL: 'warn' },
    stdio: 'pipe',
  });
}

async function foreignIndices(): Promise<void> {
  // The app's own search indices: its fields, its counts under its names, no Tally marker.
  await es.indices.create({
    index: `${esPrefix}jav`,
    mappings: {
      properties: {
        dvd_id: { type: 'keyword' },
        title: { type: 'text' },
        cover: { type: 'keyword' },
        view_count: { type: 'long' },
        download_count: { type: 'long' },
      },
    },
  });
  await es.indices.create({ index: `${esPrefix}actors`, mappings: { properties: { name: { type: 'text' } } } });
  await es.indices.create({ index: `${esPrefix}tags`, mappings: { properties: { name: { type: 'text' } } } });
  const rows = (await app.db('jav').where('id', '<=', MOVIES).select('id', 'dvd_id', 'title', 'cover', 'views', 'downloads')) as {
    id: number;
    dvd_id: string;
    title: string;
    cover: string;
    views: number;
    downloads: number;
  }[];
  await es.bulk({
    refresh: true,
    operations: rows.flatMap((r) => [
      { index: { _index: `${esPrefix}jav`, _id: String(r.id) } },
      { dvd_id: r.dvd_id, title: r.title, cover: r.cover, view_count: r.views, download_count: r.downloads },
    ]),
  });
}

/** The backfilled states, as the oracle's starting point: the app's favorites, ratings and watchlist rows. */
async function seedOracle(): Promise<void> {
  const rows = (await app.db('user_interactions').select('user_id', 'jav_id', 'action', 'value', 'updated_at')) as {
    user_id: number;
    jav_id: number;
    action: string;
    value: number | null;
    updated_at: Date;
  }[];
  for (const r of rows) {
    const type: EventType = r.action === 'favorite' ? 'movie.liked' : 'movie.rated';
    oracle.apply(type, {
      user_id: Number(r.user_id),
      jav_id: Number(r.jav_id),
      occurred_at: r.updated_at.getTime(),
      event_id: '',
      rating: r.value,
    });
  }
  for (const w of (await app.db('watchlists').select('user_id', 'jav_id')) as { user_id: number; jav_id: number }[])
    oracle.apply('movie.watchlisted', { user_id: Number(w.user_id), jav_id: Number(w.jav_id), occurred_at: 0, event_id: '' });
}

function events(n: number): Record<string, unknown>[] {
  const types: EventType[] = [
    'movie.viewed',
    'movie.viewed',
    'movie.viewed',
    'movie.downloaded',
    'movie.liked',
    'movie.unliked',
    'movie.rated',
    'movie.watchlisted',
    'movie.unwatchlisted',
    'search.performed',
  ];
  const out: Record<string, unknown>[] = [];
  const now = Date.now();
  for (let i = 0; i < n; i++) {
    const type = types[i % types.length]!;
    const javId = 1 + ((i * 7) % MOVIES);
    const userId = i % 4 === 0 && (type === 'movie.viewed' || type === 'movie.downloaded') ? null : 1 + ((i * 3) % 40);
    // No sent_at: the ingest API then keeps occurred_at as sent, so the oracle knows the latest change.
    const e: Record<string, unknown> = { type, event_id: randomUUID(), occurred_at: now - 60_000 + ((i * 7919) % 50_000), user_id: userId };
    if (type === 'search.performed') Object.assign(e, { query: `q${i % 5}`, filters: {}, entity_type: 'movie', result_count: i % 3 });
    else e.jav_id = javId;
    if (type === 'movie.rated') e.rating = 1 + (i % 5);
    out.push(e);
    oracle.apply(type, e);
    if (type === 'movie.viewed' || type === 'movie.downloaded') {
      const m = type === 'movie.viewed' ? sent.views : sent.downloads;
      m.set(javId, (m.get(javId) ?? 0) + 1);
      if (userId !== null && type === 'movie.viewed')
        sent.history.set(`${userId}:${javId}`, (sent.history.get(`${userId}:${javId}`) ?? 0) + 1);
    }
    counts[type] = (counts[type] ?? 0) + 1;
  }
  return out;
}

beforeAll(async () => {
  tally = await createTempDatabase(env.MYSQL_URL, 'tally_pipe');
  app = await createTempDatabase(env.MYSQL_URL, 'tally_app');
  await createAppSchema(app.db);
  before = await snapshotApp(app.db);
  mapping = writeAppMapping(app.name);
  writeFileSync(
    mapping,
    JSON.stringify({
      ...appMappingDocument(app.name),
      search: { movies: { countFields: { views: 'view_count', downloads: 'download_count', likes: null } } },
    }),
  );
  for (const n of [6, 5, 4, 2, 1]) {
    redis = new Redis(`${env.REDIS_URL}/${n}`);
    if ((await redis.dbsize()) === 0) {
      redisUrl = `${env.REDIS_URL}/${n}`;
      break;
    }
    redis.disconnect();
  }
  names = isolatedTopics();
  common = {
    MYSQL_URL: tally.url,
    CATALOG_MAPPING: mapping,
    REDIS_URL: redisUrl,
    TOPIC_PREFIX: names.prefix,
    ES_INDEX_PREFIX: esPrefix,
    MONGO_URL: mongoUrl,
  };
  await foreignIndices();
}, 180_000);

afterAll(async () => {
  await Promise.all(procs.map((p) => p.kill()));
  await redis?.flushdb();
  redis?.disconnect();
  await tally?.drop();
  await app?.drop();
  await scratch?.drop();
  await es.indices.delete({ index: `${esPrefix}*` }).catch(() => undefined);
  await es.close();
  const mongo = new MongoClient(mongoUrl, { serverSelectionTimeoutMS: 3_000 });
  await mongo
    .db()
    .dropDatabase()
    .catch(() => undefined);
  await mongo.close();
  await deleteTopics([...eventDefinitions().map((d) => names.topicFor(d.type)), names.deadLetter]).catch(() => undefined);
});

describe("Tally on the app's own database, Redis and search index", () => {
  it("check → apply → backfill: the likes are the app's own figure", async () => {
    cli('migrate');
    expect(() => cli('adopt', 'check')).toThrow(); // exit 1: columns to add
    cli('adopt', 'apply');
    expect(cli('adopt', 'check')).toMatch(/0 problems, .*0 statements for tally adopt apply/);
    expect(cli('adopt', 'backfill')).toMatch(/movie_user_state: /);
    await seedOracle();
    const likes = (await app
      .db('user_interactions')
      .where({ action: 'favorite' })
      .groupBy('jav_id')
      .select('jav_id')
      .count({ n: '*' })) as { jav_id: number; n: number }[];
    const jav = new Map(
      ((await app.db('jav').select('id', 'likes')) as { id: number; likes: number }[]).map((r) => [Number(r.id), Number(r.likes)]),
    );
    for (const r of likes) expect({ id: r.jav_id, likes: jav.get(Number(r.jav_id)) }).toEqual({ id: r.jav_id, likes: Number(r.n) });
    expect(await redis.get(`jav:likes:${likes[0]!.jav_id}`)).toBe(String(likes[0]!.n));
  }, 120_000);

  it("ingest → event-logger, counter, history → flush → es-sync → snapshot → query API: exact, and the app's own columns untouched", async () => {
    const base = { ...common, LOG_LEVEL: 'warn', KAFKA_SESSION_TIMEOUT: '6s' };
    const port = (i: number) => String(testPort(19700) + i);
    procs.push(
      new ServiceProcess('services/event-logger/dist/main.js', { ...base, GROUP_ID: uniqueName('a_logger'), MANAGEMENT_PORT: port(0) }),
      new ServiceProcess('services/counter/dist/main.js', { ...base, GROUP_ID: uniqueName('a_counter'), MANAGEMENT_PORT: port(1) }),
      new ServiceProcess('services/history/dist/main.js', { ...base, GROUP_ID: uniqueName('a_history'), MANAGEMENT_PORT: port(2) }),
    );
    const ingest = await startIngest({ ...common, PORT: String(testPort(18700)) });
    procs.push(ingest.proc);
    for (let i = 0; i < 3; i++)
      await procs[i]!.until(
        async () => ((await fetch(`http://127.0.0.1:${port(i)}/readyz`).catch(() => undefined))?.ok ? true : undefined),
        60_000,
        `consumer ${i} ready`,
      );

    const all = events(1_500);
    for (let i = 0; i < all.length; i += 250) {
      const res = await fetch(`${ingest.url}/v1/events`, {
        method: 'POST',
        headers: { authorization: 'Bearer sk-test', 'content-type': 'application/json', 'user-agent': UA },
        body: JSON.stringify({ events: all.slice(i, i + 250) }),
      });
      expect(res.status).toBe(202);
    }
    // Raw logs complete (Tally's own tables), then every consumer caught up.
    await eventually(
      async () =>
        Number(((await tally.db('view_events').count({ n: '*' }).first()) as { n: number }).n) === counts['movie.viewed']
          ? true
          : undefined,
      60_000,
      'view_events complete',
    );
    const counted = (
      [
        'movie.viewed',
        'movie.downloaded',
        'movie.liked',
        'movie.unliked',
        'movie.rated',
        'movie.watchlisted',
        'movie.unwatchlisted',
      ] as EventType[]
    ).map((t) => names.topicFor(t));
    const ends = await endOffsets(counted);
    await eventually(
      async () => {
        const applied = await redis.hgetall('tally:counter:applied');
        const history = new Map(
          (
            (await tally.db('consumer_progress').select('topic', 'partition', 'offset')) as {
              topic: string;
              partition: number;
              offset: number;
            }[]
          ).map((r) => [`${r.topic}:${r.partition}`, Number(r.offset)]),
        );
        for (const [tp, end] of ends) {
          if (end > 0 && Number(applied[tp] ?? -1) !== end - 1) return undefined;
          if (end > 0 && /movie\.(viewed|downloaded):/.test(tp) && history.get(tp) !== end - 1) return undefined;
        }
        return true;
      },
      90_000,
      'counter and history caught up',
    );
    job('services/flusher/dist/main.js');

    // MySQL (the app's jav, through the mapping) = before + effects; the display keys = MySQL.
    const figures = oracle.figures();
    const jav = new Map(
      (
        (await app
          .db('jav')
          .where('id', '<=', MOVIES)
          .select('id', 'views', 'downloads', ...STATE_METRICS)) as Record<string, number>[]
      ).map((r) => [Number(r.id), r]),
    );
    const beforeJav = new Map((await javBefore()).map((r) => [Number(r.id), r]));
    const wrong: unknown[] = [];
    for (let m = 1; m <= MOVIES; m++) {
      const row = jav.get(m)!;
      const want: Record<string, number> = {
        views: Number(beforeJav.get(m)!.views) + (sent.views.get(m) ?? 0),
        downloads: Number(beforeJav.get(m)!.downloads) + (sent.downloads.get(m) ?? 0),
      };
      for (const metric of STATE_METRICS) want[metric] = figures.get(`${metric}:${m}`) ?? 0;
      for (const [metric, v] of Object.entries(want)) {
        if (Number(row[metric]) !== v) wrong.push({ movie: m, metric, mysql: Number(row[metric]), want: v });
        const shown = await redis.get(`jav:${metric}:${m}`);
        if (shown !== null && Number(shown) !== v) wrong.push({ movie: m, metric, redis: shown, want: v });
      }
    }
    expect(wrong).toEqual([]);

    // History in the app's table and columns (viewed_at, its own key); its other columns untouched.
    const hist = (await app.db('user_jav_history').select('user_id', 'jav_id', 'view_count', 'progress_seconds', 'device')) as Record<
      string,
      number | string | null
    >[];
    const beforeHist = new Map((await historyBefore()).map((r) => [`${r.user_id}:${r.jav_id}`, r]));
    for (const [pair, n] of sent.history) {
      const row = hist.find((h) => `${h.user_id}:${h.jav_id}` === pair)!;
      const was = beforeHist.get(pair);
      expect({ pair, views: Number(row.view_count) }).toEqual({ pair, views: Number(was?.view_count ?? 0) + n });
      expect({ pair, progress: row.progress_seconds, device: row.device }).toEqual({
        pair,
        progress: was?.progress_seconds ?? 0,
        device: was?.device ?? null,
      });
    }

    // es-sync writes only the mapped count fields of the app's index, in place.
    job('services/es-sync/dist/main.js', '--full');
    await es.indices.refresh({ index: `${esPrefix}jav` });
    const docs = (
      await es.search<{ dvd_id: string; title: string; cover: string; view_count: number; download_count: number }>({
        index: `${esPrefix}jav`,
        size: 100,
      })
    ).hits.hits;
    expect(docs).toHaveLength(MOVIES);
    for (const d of docs) {
      const m = Number(d._id);
      expect({ m, views: d._source!.view_count, downloads: d._source!.download_count }).toEqual({
        m,
        views: Number(jav.get(m)!.views),
        downloads: Number(jav.get(m)!.downloads),
      });
      expect(Object.keys(d._source!).sort()).toEqual(['cover', 'download_count', 'dvd_id', 'title', 'view_count']);
    }

    // The snapshot and the query API read the app through the mapping.
    job('services/snapshot-builder/dist/main.js');
    const mongo = new MongoClient(mongoUrl);
    const dash = (await mongo
      .db()
      .collection<{ _id: string }>('analytics_snapshots')
      .findOne({ _id: SNAPSHOT_IDS.dashboard })) as unknown as { top_movies: { all: { by_views: { jav_id: number; code: string }[] } } };
    await mongo.close();
    const top = dash.top_movies.all.by_views[0]!;
    expect(top.code).toBe(((await app.db('jav').where({ id: top.jav_id }).first('dvd_id')) as { dvd_id: string }).dvd_id);
    const q = new ServiceProcess('services/query-api/dist/main.js', {
      ...common,
      PORT: String(testPort(18800)),
      LOG_LEVEL: 'warn',
      ADMIN_TOKENS: 'adopt-admin-token-0123456789',
    });
    procs.push(q);
    const qUrl = `http://127.0.0.1:${testPort(18800)}`;
    await q.until(async () => ((await fetch(`${qUrl}/readyz`).catch(() => undefined))?.ok ? true : undefined), 30_000, `query-api ready`);
    const c = (await (await fetch(`${qUrl}/v1/movies/7/counts`)).json()) as Record<string, number | null>;
    expect(c).toMatchObject({
      jav_id: 7,
      views: Number(jav.get(7)!.views),
      likes: Number(jav.get(7)!.likes),
      watchlists: Number(jav.get(7)!.watchlists),
      rating_count: Number(jav.get(7)!.rating_count),
    });

    // Every app column Tally does not own, byte for byte: jav all but its counters, history's own
    // columns of the rows it had (Tally adds rows and moves its mapped columns), every other table whole.
    const after = await snapshotApp(app.db, {
      ...Object.fromEntries(APP_TABLES.map((t) => [t, before[t].columns])),
      jav: before.jav.columns.filter((col) => !APP_COUNTERS.has(col)),
    });
    const reference = await referenceSnapshot();
    for (const table of APP_TABLES.filter((t) => t !== 'user_jav_history'))
      expect({ table, rows: after[table].rows, sha256: after[table].sha256 }).toEqual({
        table,
        rows: reference[table].rows,
        sha256: reference[table].sha256,
      });
    const appHistoryColumns = ['id', 'user_id', 'jav_id', 'progress_seconds', 'device', 'created_at', 'updated_at'];
    expect(await app.db('user_jav_history').where('id', '<=', 250).orderBy('id').select(appHistoryColumns)).toEqual(
      await historyBefore(appHistoryColumns),
    );
  }, 300_000);
});

/** The fixture as it was, rebuilt in a scratch database (the fixture is deterministic). */
let scratch: TempDatabase | undefined;
async function scratchDb(): Promise<TempDatabase> {
  if (!scratch) {
    scratch = await createTempDatabase(env.MYSQL_URL, 'tally_ref');
    await createAppSchema(scratch.db);
  }
  return scratch;
}
async function javBefore(): Promise<Record<string, number>[]> {
  return (await (await scratchDb()).db('jav').where('id', '<=', MOVIES).select('id', 'views', 'downloads')) as Record<string, number>[];
}
async function historyBefore(
  columns = ['user_id', 'jav_id', 'view_count', 'progress_seconds', 'device'],
): Promise<Record<string, number | string | null>[]> {
  return (await (await scratchDb()).db('user_jav_history').orderBy('id').select(columns)) as Record<string, number | string | null>[];
}
async function referenceSnapshot() {
  const ref = await snapshotApp((await scratchDb()).db);
  const out = await snapshotApp((await scratchDb()).db, { jav: ref.jav.columns.filter((col) => !APP_COUNTERS.has(col)) });
  return out;
}
