import Redis from 'ioredis';
import pino from 'pino';
import { backfillUserState, Catalog, parseCatalogMapping } from '@tally/catalog';
import { createTempDatabase, migrateLatest, seedDemo, type TempDatabase } from '@tally/db';
import { sampleEvent, topicNames, type EventType, type TallyEvent } from '@tally/events';
import type { PartitionBatch } from '@tally/kafka';
import { CounterSink } from '@tally/counter/sink';
import { env } from '../helpers/env';

// Backfill from an app whose likes are `action` rows, then the counter's per-user rule on top of it:
// Tally's figure is the app's from the first minute, and only real changes move it.
let redis: Redis;
let temp: TempDatabase;
let catalog: Catalog;
const T0 = Date.parse('2026-11-01T00:00:00Z');

beforeAll(async () => {
  temp = await createTempDatabase(env.MYSQL_URL, 'tally_backfill');
  await migrateLatest(temp.db);
  await seedDemo(temp.db, { movies: 5, actors: 2, tags: 2, users: 10, seed: 1 });
  await temp.db
    .raw(`CREATE TABLE app_interactions (id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY, user_id BIGINT UNSIGNED NOT NULL, jav_id BIGINT UNSIGNED NOT NULL,
    action VARCHAR(20) NOT NULL, value TINYINT NULL, created_at DATETIME(3) NULL, updated_at DATETIME(3) NULL, UNIQUE KEY ui (user_id, jav_id, action))`);
  const at = new Date(T0);
  await temp.db('app_interactions').insert([
    { user_id: 1, jav_id: 1, action: 'favorite', updated_at: at },
    { user_id: 2, jav_id: 1, action: 'favorite', updated_at: at },
    { user_id: 3, jav_id: 2, action: 'favorite', updated_at: at },
    { user_id: 1, jav_id: 1, action: 'rating', value: 4, updated_at: at },
  ]);
  catalog = new Catalog(parseCatalogMapping({ interactions: { table: 'app_interactions', shape: { kind: 'actions' } } }));
  // An empty Redis database of its own, as the query-api suite claims one (never 0: the live stack's).
  for (const n of [2, 1, 4, 5]) {
    redis = new Redis(`${env.REDIS_URL}/${n}`);
    if ((await redis.dbsize()) === 0) break;
    redis.disconnect();
  }
}, 120_000);

afterAll(async () => {
  await redis.flushdb();
  redis.disconnect();
  await temp.drop();
});

async function likes(): Promise<number[]> {
  return ((await temp.db('jav').orderBy('id').select('likes')) as { likes: number }[]).map((r) => Number(r.likes));
}

function batch(
  type: EventType,
  offset: number,
  events: { user: number; jav: number; at: number; rating?: number }[],
): PartitionBatch<TallyEvent> {
  const topic = topicNames('tally.').topicFor(type);
  const messages = events.map((e, i) => ({
    topic,
    partition: 0,
    offset: String(offset + i),
    key: null,
    schemaId: 1,
    timestamp: '0',
    value: sampleEvent(type, {
      event_id: `00000000-0000-4000-8000-${String(offset + i).padStart(12, '0')}`,
      jav_id: e.jav,
      user_id: e.user,
      occurred_at: e.at,
      received_at: e.at,
      is_bot: false,
      ...(e.rating ? { rating: e.rating } : {}),
    }),
  }));
  return {
    topic,
    partition: 0,
    messages,
    firstOffset: String(offset),
    lastOffset: String(offset + events.length - 1),
    heartbeat: async () => undefined,
    reportReprocessed: () => undefined,
  };
}

describe('tally adopt backfill', () => {
  it("sets likes to the app's own figure (users with a 'favorite' row), the states and the display keys", async () => {
    const r = await backfillUserState(temp.db, redis, catalog);
    expect(await likes()).toEqual([2, 1, 0, 0, 0]);
    expect(r.states).toEqual({ like: 3, rating: 1, watchlist: 0 });
    expect(await redis.mget('jav:likes:1', 'jav:likes:2', 'jav:likes:3')).toEqual(['2', '1', '0']);
    // The rating figures of the same states: user 1 gave movie 1 four stars.
    expect(await temp.db('jav').where({ id: 1 }).first('rating_count', 'rating_sum', 'watchlists')).toEqual({
      rating_count: 1,
      rating_sum: 4,
      watchlists: 0,
    });
    expect(await redis.mget('jav:rating_count:1', 'jav:rating_sum:1')).toEqual(['1', '4']);
    // Idempotent: a second run changes nothing.
    expect(await backfillUserState(temp.db, redis, catalog)).toMatchObject({ states: r.states, moviesChanged: 0 });
  });

  it('then only real changes move the figure: repeated likes, unlikes of non-likers and older events do not', async () => {
    const sink = new CounterSink(redis, temp.db, topicNames('tally.'), { dedupTtlSeconds: 600 }, pino({ level: 'silent' }), catalog);
    const later = T0 + 60_000;
    // user 1 likes movie 1 again (already likes it), user 4 unlikes movie 2 (never liked it), user 3's
    // unlike of movie 2 from before the backfilled state (older: loses), user 2 unlikes movie 1 (counts).
    expect((await sink.handle(batch('movie.liked', 0, [{ user: 1, jav: 1, at: later }]))).kind).toBe('done');
    expect(
      (
        await sink.handle(
          batch('movie.unliked', 0, [
            { user: 4, jav: 2, at: later },
            { user: 3, jav: 2, at: T0 - 1 },
            { user: 2, jav: 1, at: later },
          ]),
        )
      ).kind,
    ).toBe('done');
    expect(await redis.mget('jav:likes:1', 'jav:likes:2')).toEqual(['1', '1']);
    // The same chunk again (a replay after a crash before the commit) and a reordered duplicate: nothing moves.
    await sink.handle(
      batch('movie.unliked', 0, [
        { user: 4, jav: 2, at: later },
        { user: 3, jav: 2, at: T0 - 1 },
        { user: 2, jav: 1, at: later },
      ]),
    );
    await sink.handle(batch('movie.liked', 1, [{ user: 2, jav: 1, at: later - 1 }]));
    expect(await redis.mget('jav:likes:1', 'jav:likes:2')).toEqual(['1', '1']);
    expect(await redis.hget('tally:counter:pending', 'likes:1')).toBe('-1');
    // A re-rating of a backfilled rating replaces it: still one rater, 4 → 2 stars.
    await sink.handle(batch('movie.rated', 0, [{ user: 1, jav: 1, at: later, rating: 2 }]));
    expect(await redis.mget('jav:rating_count:1', 'jav:rating_sum:1')).toEqual(['1', '2']);
  });

  it('refuses once the counter has counted, unless forced', async () => {
    await expect(backfillUserState(temp.db, redis, catalog)).rejects.toThrow(/already counted events/);
  });
});
