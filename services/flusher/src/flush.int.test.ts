import { DEMO_CATALOG } from '@tally/catalog';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { baseConfigSchema, loadConfig } from '@tally/config';
import { createMysql } from '@tally/clients';
import { createTempDatabase, migrateLatest, seedDemo, type TempDatabase } from '@tally/db';
import { counterKeys, METRICS } from '@tally/layout';
import { createLogger, ServiceMetrics } from '@tally/runtime';
import { Flusher } from './flush';
import { parseFlushHash } from './handler';
import { FlushSink } from './sink';

// Below the job lock: what keeps a flush exact if two runs overlap anyway (a lock lost with its
// MySQL session mid-run). Real MariaDB and a private redis-server; the flushers run in-process.
const env = loadConfig(baseConfigSchema);
const logger = createLogger({ service: 'flusher-int', level: 'silent' });
const PORT = 29_000 + (process.pid % 500);
const MOVIES = 200;
const opts = { mysqlChunkRows: 37, realignChunkKeys: 50, readPageFields: 64 }; // small: many chunks and pages
let temp: TempDatabase;
let server: ChildProcess;
const redis = new Redis(PORT, '127.0.0.1', { lazyConnect: true });

beforeAll(async () => {
  temp = await createTempDatabase(env.MYSQL_URL, 'tally_flusher_int');
  await migrateLatest(temp.db);
  await seedDemo(temp.db, { movies: MOVIES, actors: 2, tags: 2, users: 2, seed: 8 });
  server = spawn(
    'redis-server',
    [
      '--port',
      String(PORT),
      '--bind',
      '127.0.0.1',
      '--dir',
      mkdtempSync(join(tmpdir(), 'tally-flusher-int-')),
      '--save',
      '',
      '--appendonly',
      'no',
    ],
    { stdio: 'ignore' },
  );
  for (let i = 0; ; i++) {
    try {
      if (
        execFileSync('redis-cli', ['-p', String(PORT), 'ping'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() === 'PONG'
      )
        break;
    } catch {
      if (i > 100) throw new Error('private redis-server did not start');
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  await redis.connect();
}, 60_000);

afterAll(async () => {
  redis.disconnect();
  server?.kill('SIGKILL');
  await temp?.drop();
});

async function totals(): Promise<Map<string, number>> {
  const rows = (await temp.db('jav').select('id', ...METRICS)) as Record<string, number | string>[];
  return new Map(rows.flatMap((r) => METRICS.map((m) => [`${m}:${Number(r.id)}`, Number(r[m])] as const)));
}

function newFlusher(name: string): { flusher: Flusher; close: () => Promise<void> } {
  const r = new Redis(PORT, '127.0.0.1');
  const db = createMysql({ url: temp.url, poolMax: 2 });
  return {
    flusher: new Flusher(new FlushSink(r, db, opts, DEMO_CATALOG), new ServiceMetrics(name, { defaultMetrics: false })),
    close: async () => {
      r.disconnect();
      await db.destroy();
    },
  };
}

it('two runs overlapping without the job lock: a leftover applied once, the pending hash taken once, MySQL exact', async () => {
  const before = await totals();
  const expected = new Map(before);
  const add = (field: string, d: number) => expected.set(field, expected.get(field)! + d);
  // A leftover a killed run took (registered, not in the ledger), and a fresh pending hash.
  const leftover: Record<string, string> = { 'off:t.movie.viewed:0': '10' };
  const pending: Record<string, string> = { 'off:t.movie.viewed:0': '25', 'off:t.movie.liked:1': '7' };
  for (let id = 1; id <= MOVIES; id++) {
    leftover[`views:${id}`] = String(id % 5);
    add(`views:${id}`, id % 5);
    for (const m of METRICS) {
      const d = m === 'likes' ? (id % 3) - 1 : id;
      pending[`${m}:${id}`] = String(d);
      add(`${m}:${id}`, d);
    }
  }
  await redis.hset(counterKeys.flushing('leftover-1'), leftover);
  await redis.sadd(counterKeys.flushes, 'leftover-1');
  await redis.hset(counterKeys.pending, pending);
  // The display keys as the counter leaves them: MySQL + everything pending (the leftover included).
  await redis.mset(...[...expected].flatMap(([f, v]) => [`jav:${f}`, String(v)]));

  const a = newFlusher('int_a');
  const b = newFlusher('int_b');
  try {
    const [ra, rb] = await Promise.all([a.flusher.run({ logger }), b.flusher.run({ logger })]);
    // Only one run took the pending hash and only one applied the leftover.
    expect([ra.summary!.taken, rb.summary!.taken].filter(Boolean)).toHaveLength(1);
    expect(ra.items + rb.items).toBe(MOVIES + METRICS.length * MOVIES);
  } finally {
    await a.close();
    await b.close();
  }
  expect(await totals()).toEqual(expected);
  expect(await temp.db('flush_ledger').count({ n: '*' })).toEqual([{ n: 2 }]);
  expect(await temp.db('counter_offsets').orderBy('topic').select('topic', 'partition', 'offset')).toEqual([
    { topic: 't.movie.liked', partition: 1, offset: 7 },
    { topic: 't.movie.viewed', partition: 0, offset: 25 },
  ]);
  expect(await redis.keys('tally:counter:flushing:*')).toEqual([]);
  expect(await redis.scard(counterKeys.flushes)).toBe(0);
  // Every display key of a flushed field still equals MySQL + pending, now MySQL alone: the flush
  // moved the deltas, not the figures.
  const shown = await redis.mget(...[...expected.keys()].map((f) => `jav:${f}`));
  expect(shown.map(Number)).toEqual([...expected.values()]);
});

it('rolls back when the taken hash vanished before the commit (Redis lost its data): nothing applied', async () => {
  const before = await totals();
  const ledgerBefore = await temp.db('flush_ledger').count({ n: '*' });
  const sink = new FlushSink(redis, temp.db, opts, DEMO_CATALOG);
  await redis.hset(counterKeys.pending, { 'views:1': '5', 'off:t.movie.viewed:0': '99' });
  expect(await sink.take('lost-1')).toBe(true);
  const flush = parseFlushHash((await sink.read('lost-1'))!);
  await redis.del(counterKeys.flushing('lost-1'));
  await expect(sink.apply('lost-1', flush)).rejects.toMatchObject({ code: 'FLUSH_SOURCE_LOST' });
  expect(await totals()).toEqual(before);
  expect(await temp.db('flush_ledger').count({ n: '*' })).toEqual(ledgerBefore);
  expect((await temp.db('counter_offsets').where({ topic: 't.movie.viewed' }).first('offset')).offset).toBe(25);
  await sink.cleanup('lost-1');
});

it("re-aligns each display key to MySQL + what is pending now, across the script's 1,000-key batches", async () => {
  const sink = new FlushSink(redis, temp.db, { ...opts, realignChunkKeys: 2_500 }, DEMO_CATALOG);
  const fields = METRICS.flatMap((metric) => Array.from({ length: MOVIES }, (_, i) => ({ metric, id: i + 1 })));
  fields.push({ metric: 'views', id: 999_999 }); // no such movie in MySQL: 0 + its pending delta
  const pending: Record<string, string> = { 'views:999999': '3' };
  for (const f of fields) if (f.id % 7 === 0) pending[`${f.metric}:${f.id}`] = String((f.id % 5) - 2);
  await redis.hset(counterKeys.pending, pending);
  try {
    expect(await sink.realign(fields)).toBe(fields.length);
    const mysql = await totals();
    const want = fields.map((f) => (mysql.get(`${f.metric}:${f.id}`) ?? 0) + Number(pending[`${f.metric}:${f.id}`] ?? 0));
    expect((await redis.mget(...fields.map((f) => `jav:${f.metric}:${f.id}`))).map(Number)).toEqual(want);
  } finally {
    await redis.del(counterKeys.pending);
  }
});

it('takes the noted display keys as counter fields, merged into a set a killed run had taken; a key noted meanwhile waits', async () => {
  const sink = new FlushSink(redis, temp.db, opts, DEMO_CATALOG);
  await redis.sadd(counterKeys.realignTaken, 'views:1', 'likes:2'); // taken by a run killed before its re-align
  await redis.sadd(counterKeys.realign, 'views:1', 'downloads:3', 'not-a-field');
  try {
    expect(await sink.takeRealignSet()).toEqual([
      { metric: 'views', id: 1 },
      { metric: 'likes', id: 2 },
      { metric: 'downloads', id: 3 },
    ]);
    expect(await redis.exists(counterKeys.realign)).toBe(0);
    await redis.sadd(counterKeys.realign, 'views:4'); // noted while this run re-aligns
    await sink.dropRealignSet();
    expect(await redis.exists(counterKeys.realignTaken)).toBe(0);
    expect(await redis.smembers(counterKeys.realign)).toEqual(['views:4']);
    expect(await sink.takeRealignSet()).toEqual([{ metric: 'views', id: 4 }]);
    await sink.dropRealignSet();
    expect(await sink.takeRealignSet()).toEqual([]);
  } finally {
    await redis.del(counterKeys.realign, counterKeys.realignTaken);
  }
});
