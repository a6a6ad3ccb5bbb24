import { randomUUID } from 'node:crypto';
import { createTempDatabase, migrateLatest, seedDemo, type TempDatabase } from '@tally/db';
import type { TopicNames } from '@tally/events';
import { PrivateRedis } from '../flusher/support';
import { env, eventually } from '../helpers/env';
import { deleteTopics } from '../helpers/kafka';
import { endOffsets, isolatedTopics } from '../helpers/pipeline';
import { ServiceProcess } from '../helpers/process';
import { startIngest, testPort } from '../helpers/services';

// VIEW_DEDUP_WINDOW end to end: the real ingest API decides with Redis, the real event-logger logs
// every view with its flag, the real counter counts only the unflagged ones. Isolation: own topics
// (TOPIC_PREFIX), own MySQL database, own redis-server.
const BASE = 15_700;
const WINDOW = { VIEW_DEDUP_WINDOW: '30m' };
const USER = 5;
// Browsers' own user agents (a bare "Firefox/128.0" is taken for a crawler, and crawlers are left alone).
const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';
const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
let names: TopicNames;
let temp: TempDatabase;
const redis = new PrivateRedis(BASE + 10);
const procs: ServiceProcess[] = [];
const ingest: Record<'on' | 'off' | 'kafkaDown' | 'redisDown', string> = { on: '', off: '', kafkaDown: '', redisDown: '' };
let initialViews: Map<number, number>;
/** Views posted so far, by movie: what the raw log must hold. */
const posted = new Map<number, number>();

interface View {
  jav_id: number;
  event_id?: string;
  user_id?: number | null;
  ip?: string;
  user_agent?: string;
}

/** POSTs views with the server key (so a guest's ip and user agent are the body's); the HTTP status. */
async function post(url: string, views: View[]): Promise<number> {
  const events = views.map((v) => ({ type: 'movie.viewed', event_id: randomUUID(), user_id: USER, ...v }));
  const res = await fetch(`${url}/v1/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer sk-test', 'user-agent': 'Mozilla/5.0 (view-dedup test)' },
    body: JSON.stringify({ events }),
  });
  await res.arrayBuffer();
  return res.status;
}

async function accepted(url: string, views: View[]): Promise<void> {
  expect(await post(url, views)).toBe(202);
  for (const v of views) posted.set(v.jav_id, (posted.get(v.jav_id) ?? 0) + 1);
}

/** view_events of a movie once every posted view is logged: how many rows, how many flagged. */
async function logged(javId: number, distinct = posted.get(javId) ?? 0): Promise<{ rows: number; repeats: number }> {
  return eventually(
    async () => {
      const [r] = (await temp
        .db('view_events')
        .where({ jav_id: javId })
        .select(temp.db.raw('COUNT(*) AS n'), temp.db.raw('SUM(repeat_view) AS r'))) as { n: number; r: number | null }[];
      return Number(r!.n) === distinct ? { rows: Number(r!.n), repeats: Number(r!.r ?? 0) } : undefined;
    },
    60_000,
    `${distinct} views of movie ${javId} logged`,
  );
}

/** The display count's change since the seed, once the counter has applied everything in the view topic. */
async function counted(javId: number): Promise<number> {
  const topic = names.topicFor('movie.viewed');
  const ends = await endOffsets([topic]);
  await eventually(
    async () => {
      const applied = await redis.client.hgetall('tally:counter:applied');
      for (const [tp, end] of ends) if (end > 0 && Number(applied[tp] ?? -1) !== end - 1) return undefined;
      return true;
    },
    60_000,
    'counter caught up with the view topic',
  );
  return Number((await redis.client.get(`jav:views:${javId}`)) ?? initialViews.get(javId)) - initialViews.get(javId)!;
}

function service(entry: string, port: number, extra: Record<string, string>): void {
  procs.push(
    new ServiceProcess(entry, {
      LOG_LEVEL: 'warn',
      TOPIC_PREFIX: names.prefix,
      MYSQL_URL: temp.url,
      REDIS_URL: redis.url,
      MANAGEMENT_PORT: String(port),
      ...extra,
    }),
  );
}

beforeAll(async () => {
  names = isolatedTopics();
  temp = await createTempDatabase(env.MYSQL_URL, 'tally_view_dedup');
  await migrateLatest(temp.db);
  await seedDemo(temp.db, { movies: 20, actors: 5, tags: 5, users: 10, seed: 14 });
  initialViews = new Map(
    (await temp.db('jav').select('id', 'views')).map((r: { id: number; views: number }) => [Number(r.id), Number(r.views)]),
  );
  await redis.start();
  service('services/event-logger/dist/main.js', testPort(BASE) + 1, { GROUP_ID: `event-logger-${names.prefix}` });
  service('services/counter/dist/main.js', testPort(BASE) + 2, { GROUP_ID: `counter-${names.prefix}` });
  const start = async (port: number, extra: Record<string, string>, waitReady = true) => {
    const { proc, url } = await startIngest(
      { PORT: String(port), TOPIC_PREFIX: names.prefix, REDIS_URL: redis.url, ...extra },
      { waitReady },
    );
    procs.push(proc);
    return url;
  };
  ingest.on = await start(testPort(BASE) + 3, WINDOW);
  ingest.off = await start(testPort(BASE) + 4, {});
  // Same Redis and topics, but no broker: every request is answered 503 after the window's check.
  ingest.kafkaDown = await start(testPort(BASE) + 5, { ...WINDOW, KAFKA_BROKERS: '127.0.0.1:1', PRODUCE_TIMEOUT: '1s' }, false);
  // Nothing listens on port 1: the window fails open.
  ingest.redisDown = await start(testPort(BASE) + 6, { ...WINDOW, REDIS_URL: 'redis://127.0.0.1:1' });
}, 300_000);

afterAll(async () => {
  await Promise.all(procs.map((p) => p.kill()));
  await redis.stop();
  await temp?.drop();
  await deleteTopics([...names.eventTopics, names.deadLetter]).catch(() => undefined);
});

describe('VIEW_DEDUP_WINDOW through the real ingest API, event-logger and counter', () => {
  it('on: 5 views of one user and movie → 5 logged rows, 4 flagged, counted once', async () => {
    await accepted(ingest.on, [{ jav_id: 1 }, { jav_id: 1 }]); // two in one request
    for (let i = 0; i < 3; i++) await accepted(ingest.on, [{ jav_id: 1 }]);
    expect(await logged(1)).toEqual({ rows: 5, repeats: 4 });
    expect(await counted(1)).toBe(1);
  });

  it('on: guests are told apart by ip and user agent', async () => {
    const guest = (ua: string) => ({ jav_id: 2, user_id: null, ip: '198.51.100.23', user_agent: ua });
    for (let i = 0; i < 3; i++) await accepted(ingest.on, [guest(FIREFOX)]);
    await accepted(ingest.on, [guest(CHROME)]);
    expect(await logged(2)).toEqual({ rows: 4, repeats: 2 });
    expect(await counted(2)).toBe(2);
  });

  it('off: every view counts', async () => {
    for (let i = 0; i < 4; i++) await accepted(ingest.off, [{ jav_id: 3 }]);
    expect(await logged(3)).toEqual({ rows: 4, repeats: 0 });
    expect(await counted(3)).toBe(4);
  });

  it('an event_id retried after a 503 counts once; the next view is the repeat', async () => {
    const id = randomUUID();
    expect(await post(ingest.kafkaDown, [{ jav_id: 4, event_id: id }])).toBe(503);
    await accepted(ingest.on, [{ jav_id: 4, event_id: id }]);
    await accepted(ingest.on, [{ jav_id: 4 }]);
    expect(await logged(4)).toEqual({ rows: 2, repeats: 1 });
    expect(await counted(4)).toBe(1);
  });

  it('an event_id retried although Kafka had it (the 202 was lost) is still the counted view', async () => {
    const id = randomUUID();
    await accepted(ingest.on, [{ jav_id: 5, event_id: id }]);
    expect(await post(ingest.on, [{ jav_id: 5, event_id: id }])).toBe(202); // same event: one row
    await accepted(ingest.on, [{ jav_id: 5 }]);
    expect(await logged(5)).toEqual({ rows: 2, repeats: 1 });
    expect(await counted(5)).toBe(1);
  });

  it('a view answered 503 and never retried does not turn the next view into a repeat', async () => {
    expect(await post(ingest.kafkaDown, [{ jav_id: 6 }])).toBe(503);
    await accepted(ingest.on, [{ jav_id: 6 }]);
    expect(await logged(6)).toEqual({ rows: 1, repeats: 0 });
    expect(await counted(6)).toBe(1);
  });

  it('Redis unreachable: the window fails open, every view counts, and the metric says so', async () => {
    for (let i = 0; i < 3; i++) await accepted(ingest.redisDown, [{ jav_id: 7 }]);
    expect(await logged(7)).toEqual({ rows: 3, repeats: 0 });
    expect(await counted(7)).toBe(3);
    const metrics = await (await fetch(`${ingest.redisDown}/metrics`)).text();
    expect(metrics).toMatch(/^tally_view_dedup_failures_total\{service="ingest-api"\} 3$/m);
  });

  it('keeps no raw ip in Redis: keys name users by id and guests by a hash', async () => {
    const keys = await redis.client.keys('tally:ingest:view:*');
    expect(keys).toEqual(expect.arrayContaining([`tally:ingest:view:${names.prefix}u:${USER}:1`]));
    expect(keys.filter((k) => k.includes('198.51.100'))).toEqual([]);
    expect(keys.filter((k) => k.endsWith(':2'))).toHaveLength(2);
  });
});
