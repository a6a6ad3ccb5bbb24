import { randomUUID } from 'node:crypto';
import { DEMO_CATALOG } from '@tally/catalog';
import { createTempDatabase, migrateLatest, seedDemo, type TempDatabase } from '@tally/db';
import { sampleEvent, topicNames, type EventOf } from '@tally/events';
import type { PartitionBatch } from '@tally/kafka';
import { CounterSink } from '@tally/counter/sink';
import { env, eventually } from '../helpers/env';
import { PrivateRedis } from '../flusher/support';
import { silentLogger } from './support';

// Redis needs no pruning job: the counter's per-event de-dup keys (`tally:counter:seen:<event_id>`)
// are written with `SET … NX EX DEDUP_WINDOW_SECONDS` in the same script that counts the event, so
// each one expires on its own and the keyspace holds at most a window's worth of events.
const redis = new PrivateRedis(29_600);
let temp: TempDatabase;
const names = topicNames('tally.');

function views(offset: number, n: number): PartitionBatch<EventOf<'movie.viewed'>> {
  const topic = names.topicFor('movie.viewed');
  const messages = Array.from({ length: n }, (_, i) => ({
    topic,
    partition: 0,
    offset: String(offset + i),
    key: null,
    schemaId: 1,
    timestamp: '0',
    value: sampleEvent('movie.viewed', {
      event_id: randomUUID(),
      jav_id: 1 + (i % 5),
      user_id: 1 + (i % 10),
      occurred_at: Date.now(),
      received_at: Date.now(),
      is_bot: false,
      repeat_view: false,
    }),
  }));
  return {
    topic,
    partition: 0,
    messages,
    firstOffset: String(offset),
    lastOffset: String(offset + n - 1),
    heartbeat: async () => undefined,
    reportReprocessed: () => undefined,
  };
}

async function seenKeys(): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, page] = await redis.client.scan(cursor, 'MATCH', 'tally:counter:seen:*', 'COUNT', 1000);
    keys.push(...page);
    cursor = next;
  } while (cursor !== '0');
  return keys;
}

beforeAll(async () => {
  await redis.start();
  temp = await createTempDatabase(env.MYSQL_URL, 'tally_test_retention_redis');
  await migrateLatest(temp.db);
  await seedDemo(temp.db, { movies: 5, actors: 2, tags: 2, users: 10, seed: 1 });
}, 60_000);

afterAll(async () => {
  await redis.stop();
  await temp.drop();
});

describe("the counter's de-dup keys in Redis", () => {
  it('each carries the DEDUP_WINDOW_SECONDS TTL (600 s by default) from the moment it is written', async () => {
    const sink = new CounterSink(redis.client, temp.db, names, { dedupTtlSeconds: 600 }, silentLogger, DEMO_CATALOG);
    expect((await sink.handle(views(0, 200))).kind).toBe('done');
    const keys = await seenKeys();
    expect(keys).toHaveLength(200);
    const ttls = await Promise.all(keys.map((k) => redis.client.ttl(k)));
    expect(Math.min(...ttls)).toBeGreaterThan(590);
    expect(Math.max(...ttls)).toBeLessThanOrEqual(600);
  });

  it('so the keyspace stays bounded by one window of events: with a 1 s window, keys of older batches are gone', async () => {
    await redis.client.flushdb();
    const sink = new CounterSink(redis.client, temp.db, names, { dedupTtlSeconds: 1 }, silentLogger, DEMO_CATALOG);
    for (let b = 0; b < 5; b++) {
      expect((await sink.handle(views(b * 300, 300))).kind).toBe('done');
      // Never more than the events of the last window, however many batches came before.
      expect((await seenKeys()).length).toBeLessThanOrEqual(600);
      await new Promise((r) => setTimeout(r, 600));
    }
    await eventually(async () => ((await seenKeys()).length === 0 ? true : undefined), 5_000, 'de-dup keys expired');
  });
});
