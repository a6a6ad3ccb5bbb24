import Redis from 'ioredis';
import { createTempDatabase, migrateLatest, seedDemo, type TempDatabase } from '@tally/db';
import type { EventType, TopicNames } from '@tally/events';
import { env, eventually } from '../helpers/env';
import { committedOffset, kafka, readTopic } from '../helpers/kafka';
import { EventProducer, endOffsets, isolatedTopics, makeEvent } from '../helpers/pipeline';
import { ServiceProcess } from '../helpers/process';
import { testPort } from '../helpers/services';
import { LikeOracle, STATE_METRICS } from '../helpers/likes';

// The counter as a real process against the real Kafka, Redis and MySQL. Isolation: its own topics
// (TOPIC_PREFIX), its own MySQL database and its own Redis database index.
const REDIS_DB = 7 + (process.pid % 8);
const redisUrl = `${env.REDIS_URL}/${REDIS_DB}`;
const MOVIES = 40;
let names: TopicNames;
let temp: TempDatabase;
let producer: EventProducer;
const redis = new Redis(redisUrl);
const procs: ServiceProcess[] = [];
const expected = new Map<string, number>(); // display key → expected delta (views, downloads)
const likes = new LikeOracle();
type Counts = Record<'views' | 'downloads' | 'likes' | 'rating_count' | 'rating_sum' | 'watchlists', number>;
let initial: Map<number, Counts>;
const COUNTED: EventType[] = [
  'movie.viewed',
  'movie.downloaded',
  'movie.liked',
  'movie.unliked',
  'movie.rated',
  'movie.watchlisted',
  'movie.unwatchlisted',
];

function startCounter(extra: Record<string, string> = {}, n = 0): ServiceProcess {
  const p = new ServiceProcess('services/counter/dist/main.js', {
    TOPIC_PREFIX: names.prefix,
    MYSQL_URL: temp.url,
    REDIS_URL: redisUrl,
    MANAGEMENT_PORT: String(testPort(19200) + n),
    LOG_LEVEL: 'warn',
    MAX_CHUNK: '200',
    GROUP_ID: `counter-${names.prefix}`,
    KAFKA_SESSION_TIMEOUT: '6s',
    ...extra,
  });
  procs.push(p);
  return p;
}

/** Produces `n` counted events (views, downloads, likes, unlikes; some bots, some guests, some client retries; likes at shuffled times). */
async function produceMix(n: number): Promise<void> {
  const types: EventType[] = [
    'movie.viewed',
    'movie.viewed',
    'movie.downloaded',
    'movie.liked',
    'movie.unliked',
    'movie.rated',
    'movie.watchlisted',
    'movie.unwatchlisted',
  ];
  const batch: { type: EventType; value: Record<string, unknown> }[] = [];
  for (let i = 0; i < n; i++) {
    const type = types[i % types.length]!;
    const javId = 1 + ((i * 7) % MOVIES);
    const isBot = i % 50 === 0;
    // Likes and unlikes of one user and movie arrive out of order (two topics, shuffled times): the
    // latest by occurred_at must win, whatever the order of delivery.
    const at = Date.now() - 60_000 + ((i * 7919) % 50_000);
    const value = makeEvent(type, {
      jav_id: javId,
      is_bot: isBot,
      user_id: i % 3 === 0 ? null : 1 + (i % 20),
      occurred_at: at,
      ...(type === 'movie.rated' ? { rating: 1 + (i % 5) } : {}),
    });
    batch.push({ type, value });
    if (i % 97 === 0) batch.push({ type, value }); // the client retried: same event id, another offset
    likes.apply(type, value);
    if (!isBot && (type === 'movie.viewed' || type === 'movie.downloaded')) {
      const key = `jav:${type === 'movie.viewed' ? 'views' : 'downloads'}:${javId}`;
      expected.set(key, (expected.get(key) ?? 0) + 1);
    }
    if (batch.length >= 500) await producer.send(batch.splice(0));
  }
  if (batch.length) await producer.send(batch.splice(0));
}

/** Waits until the counter's applied offsets reach the end of every counted topic. */
async function caughtUp(): Promise<void> {
  const topics = COUNTED.map((t) => names.topicFor(t));
  const ends = await endOffsets(topics);
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

async function assertExact(): Promise<void> {
  for (let id = 1; id <= MOVIES; id++) {
    for (const metric of ['views', 'downloads', ...STATE_METRICS] as const) {
      const key = `jav:${metric}:${id}`;
      const delta = metric === 'views' || metric === 'downloads' ? (expected.get(key) ?? 0) : (likes.figures().get(`${metric}:${id}`) ?? 0);
      const shown = await redis.get(key);
      if (delta === 0 && shown === null) continue;
      expect({ key, value: Number(shown) }).toEqual({ key, value: initial.get(id)![metric] + delta });
      expect({ key, pending: Number((await redis.hget('tally:counter:pending', `${metric}:${id}`)) ?? 0) }).toEqual({
        key,
        pending: delta,
      });
    }
  }
}

beforeAll(async () => {
  names = isolatedTopics();
  temp = await createTempDatabase(env.MYSQL_URL, 'tally_counter');
  await migrateLatest(temp.db);
  await seedDemo(temp.db, { movies: MOVIES, actors: 10, tags: 5, users: 20, seed: 3 });
  const metrics = ['views', 'downloads', ...STATE_METRICS] as const;
  initial = new Map(
    (await temp.db('jav').select('id', ...metrics)).map((r: Record<string, number>) => [
      Number(r.id),
      Object.fromEntries(metrics.map((m) => [m, Number(r[m])])) as Counts,
    ]),
  );
  await redis.flushdb();
  producer = new EventProducer(names);
  await producer.connect();
}, 300_000); // topic setup and schema registration can be slow on a loaded CI machine

afterAll(async () => {
  await Promise.all(procs.map((p) => p.kill()));
  await producer.disconnect();
  await redis.flushdb();
  redis.disconnect();
  await temp.drop();
});

describe('counter', () => {
  it('counts 10,000 events exactly: display = MySQL + deltas, client retries once, bots never', async () => {
    await produceMix(10_000);
    const p = startCounter();
    await caughtUp();
    await assertExact();
    p.signal('SIGTERM');
    expect((await p.waitExit()).code).toBe(0);
  }, 180_000);

  it('survives SIGKILL mid-batch and two instances at once: still exact', async () => {
    const a = startCounter({}, 1);
    await produceMix(6_000);
    await new Promise((r) => setTimeout(r, 300));
    a.signal('SIGKILL');
    await a.waitExit();
    const b = startCounter({}, 2);
    const c = startCounter({}, 3);
    await caughtUp();
    await assertExact();
    b.signal('SIGTERM');
    c.signal('SIGTERM');
    expect([(await b.waitExit()).code, (await c.waitExit()).code]).toEqual([0, 0]);
  }, 180_000);

  it('replaying the topics from the beginning changes nothing', async () => {
    const before = await redis.hgetall('tally:counter:pending');
    // Rewind the group's Kafka offsets to the beginning, as a replay would, then start the counter.
    const admin = kafka.admin();
    await admin.connect();
    // A member SIGKILLed earlier stays in the group until its session expires; offsets can only be
    // reset once the group is empty.
    await eventually(
      async () => ((await admin.describeGroups([`counter-${names.prefix}`])).groups[0]!.state === 'Empty' ? true : undefined),
      30_000,
      'counter group empty',
    );
    for (const t of COUNTED) {
      await admin.resetOffsets({ groupId: `counter-${names.prefix}`, topic: names.topicFor(t), earliest: true });
    }
    await admin.disconnect();
    expect(await committedOffset(`counter-${names.prefix}`, names.topicFor('movie.viewed'))).toBeLessThanOrEqual(0);
    const p = startCounter({}, 4);
    await eventually(
      async () => ((await fetch(`http://127.0.0.1:${testPort(19200) + 4}/readyz`).catch(() => undefined))?.ok ? true : undefined),
      30_000,
      'counter ready',
    );
    await new Promise((r) => setTimeout(r, 5_000));
    await caughtUp();
    expect(await redis.hgetall('tally:counter:pending')).toEqual(before);
    await assertExact();
    p.signal('SIGTERM');
    expect((await p.waitExit()).code).toBe(0);
  }, 120_000);

  it('rebuilds from the offsets recorded in MySQL after Redis loses everything', async () => {
    await redis.flushdb(); // as if Redis restarted without its data: counts, pending deltas, progress
    const p = startCounter({}, 5);
    await caughtUp();
    await assertExact(); // nothing was flushed to MySQL yet, so everything is replayed from offset 0
    p.signal('SIGTERM');
    await p.waitExit();
  }, 120_000);

  it('deletes the featured cache keys (old and new group) within 1 s of the event', async () => {
    const p = startCounter({}, 6);
    await caughtUp();
    // Warm-up: the first event after a start waits for the group join; the 1 s promise is for a running counter.
    await redis.set('jav:featured:group:warm', '[1]');
    await producer.send([{ type: 'featured.item.created', value: makeEvent('featured.item.created', { group: 'warm', item_id: 4 }) }]);
    await eventually(
      async () => ((await redis.exists('jav:featured:group:warm')) === 0 ? true : undefined),
      30_000,
      'warm-up invalidation',
    );
    await redis.mset('jav:featured:all', '[1]', 'jav:featured:group:home', '[1]', 'jav:featured:group:trending', '[1]');
    const version = Number(await redis.get('jav:featured:version'));
    const t0 = Date.now();
    await producer.send([
      {
        type: 'featured.item.updated',
        value: makeEvent('featured.item.updated', { group: 'home', previous_group: 'trending', item_id: 5 }),
      },
    ]);
    await eventually(
      async () =>
        (await redis.exists('jav:featured:all', 'jav:featured:group:home', 'jav:featured:group:trending')) === 0 ? true : undefined,
      5_000,
      'featured keys deleted',
    );
    expect(Date.now() - t0).toBeLessThan(1_000);
    // …and the version moved with them, so a query-api rebuild racing with the change stores nothing.
    expect(Number(await redis.get('jav:featured:version'))).toBeGreaterThan(version);
    p.signal('SIGTERM');
    await p.waitExit();
  }, 60_000);

  it('dead-letters a poison message and counts the rest', async () => {
    const p = startCounter({}, 7);
    await producer.sendRaw(names.topicFor('movie.viewed'), Buffer.from('garbage'));
    await produceMix(50);
    await caughtUp();
    await assertExact();
    const dead = await readTopic(names.deadLetter, 1);
    expect(dead[0]!.headers['tally-dlq-reason']).toBe('undecodable');
    expect(dead[0]!.headers['tally-dlq-service']).toBe('counter');
    p.signal('SIGTERM');
    await p.waitExit();
  }, 60_000);
});
