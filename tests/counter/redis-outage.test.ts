import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { createTempDatabase, migrateLatest, seedDemo, type TempDatabase } from '@tally/db';
import type { TopicNames } from '@tally/events';
import { env, eventually } from '../helpers/env';
import { committedOffset } from '../helpers/kafka';
import { EventProducer, endOffsets, isolatedTopics, makeEvent } from '../helpers/pipeline';
import { ServiceProcess } from '../helpers/process';
import { testPort } from '../helpers/services';

// Redis unavailable for a while (a private redis-server of this test, frozen with SIGSTOP): the
// counter must not advance any offset nor dead-letter anything, /readyz must say so, and the
// counts must be exact once Redis answers again.
const REDIS_PORT = testPort(24_000);
const MGMT = testPort(24_600);
const MOVIES = 10;
let names: TopicNames;
let temp: TempDatabase;
let producer: EventProducer;
let redisServer: ChildProcess;
let counter: ServiceProcess;
const redis = new Redis(REDIS_PORT, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: null });
const group = () => `counter-${names.prefix}`;

async function views(n: number): Promise<void> {
  const batch = Array.from({ length: n }, (_, i) => ({
    type: 'movie.viewed' as const,
    value: makeEvent('movie.viewed', { jav_id: 1 + (i % MOVIES), is_bot: false }),
  }));
  for (let i = 0; i < batch.length; i += 500) await producer.send(batch.slice(i, i + 500));
}

async function caughtUp(): Promise<void> {
  const topic = names.topicFor('movie.viewed');
  const ends = await endOffsets([topic]);
  await eventually(
    async () => {
      const applied = await redis.hgetall('tally:counter:applied');
      for (const [tp, end] of ends) if (end > 0 && Number(applied[tp] ?? -1) !== end - 1) return undefined;
      return true;
    },
    60_000,
    'counter caught up',
  );
}

beforeAll(async () => {
  names = isolatedTopics();
  temp = await createTempDatabase(env.MYSQL_URL, 'tally_counter_outage');
  await migrateLatest(temp.db);
  await seedDemo(temp.db, { movies: MOVIES, actors: 5, tags: 5, users: 5, seed: 9 });
  redisServer = spawn(
    'redis-server',
    [
      '--port',
      String(REDIS_PORT),
      '--bind',
      '127.0.0.1',
      '--dir',
      mkdtempSync(join(tmpdir(), 'tally-redis-')),
      '--appendonly',
      'yes',
      '--save',
      '',
    ],
    { stdio: 'ignore' },
  );
  await eventually(
    async () => (execFileSync('redis-cli', ['-p', String(REDIS_PORT), 'ping'], { encoding: 'utf8' }).trim() === 'PONG' ? true : undefined),
    10_000,
    'private redis',
  );
  await redis.connect();
  producer = new EventProducer(names);
  await producer.connect();
}, 120_000);

afterAll(async () => {
  await counter?.kill();
  redisServer?.kill('SIGCONT');
  redisServer?.kill('SIGKILL');
  redis.disconnect();
  await producer?.disconnect();
  await temp?.drop();
});

it('Redis frozen for 8 s: no offset advances, nothing dead-lettered, not ready; exact after recovery', async () => {
  const initial = new Map(
    (await temp.db('jav').select('id', 'views')).map((r: { id: number; views: number }) => [Number(r.id), Number(r.views)]),
  );
  counter = new ServiceProcess('services/counter/dist/main.js', {
    TOPIC_PREFIX: names.prefix,
    MYSQL_URL: temp.url,
    REDIS_URL: `redis://127.0.0.1:${REDIS_PORT}`,
    MANAGEMENT_PORT: String(MGMT),
    LOG_LEVEL: 'error',
    GROUP_ID: group(),
    KAFKA_SESSION_TIMEOUT: '6s',
  });
  await views(2_000);
  await caughtUp();
  const topic = names.topicFor('movie.viewed');
  const partitions = [...(await endOffsets([topic])).keys()].map((tp) => Number(tp.split(':').pop()));
  const committedBefore = await Promise.all(partitions.map((p) => committedOffset(group(), topic, p)));

  redisServer.kill('SIGSTOP');
  await views(2_000);
  await eventually(async () => ((await fetch(`http://127.0.0.1:${MGMT}/readyz`)).status === 503 ? true : undefined), 15_000, '/readyz 503');
  await new Promise((r) => setTimeout(r, 8_000));
  expect(await Promise.all(partitions.map((p) => committedOffset(group(), topic, p)))).toEqual(committedBefore);
  expect([...(await endOffsets([names.deadLetter])).values()].reduce((a, b) => a + b, 0)).toBe(0);

  redisServer.kill('SIGCONT');
  await caughtUp();
  for (let id = 1; id <= MOVIES; id++) expect(Number(await redis.get(`jav:views:${id}`))).toBe(initial.get(id)! + 400);
  expect([...(await endOffsets([names.deadLetter])).values()].reduce((a, b) => a + b, 0)).toBe(0);
  await eventually(async () => ((await fetch(`http://127.0.0.1:${MGMT}/readyz`)).ok ? true : undefined), 15_000, '/readyz 200');
  counter.signal('SIGTERM');
  expect((await counter.waitExit()).code).toBe(0);
}, 180_000);
