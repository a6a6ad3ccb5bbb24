import { DEMO_CATALOG } from '@tally/catalog';
import { createMongo } from '@tally/clients';
import {
  AnalyticsReader,
  SNAPSHOT_IDS,
  type DashboardSnapshot,
  type RecommendationPointerDoc,
  type UserRecommendationsDoc,
} from '@tally/analytics';
import { deadLetterRecord } from '@tally/kafka';
import { createLogger } from '@tally/runtime';
import mysql from 'mysql2/promise';
import { createTopic, deleteTopics, kafka } from '../helpers/kafka';
import { expectedDashboard, seenByUser } from './oracle';
import { createWorld, destroyWorld, INACTIVE_FROM, runBuilder, runOnce, seedWorld, USERS, type World } from './support';

// The snapshot-builder as a real process against a private MySQL database, MongoDB database and
// dead-letter topic. Scenarios build on each other in order.
jest.setTimeout(240_000);

const logger = createLogger({ service: 'snapshot-builder-test', level: 'silent' });
let w: World;
let dlq: string;
const produced = new Map<string, number>();

async function producePoison(reasons: string[], bare = 0): Promise<void> {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    const messages = reasons.map((reason, i) => {
      const rec = deadLetterRecord(
        dlq,
        'event-logger',
        {
          topic: `${w.prefix}movie.viewed`,
          partition: 0,
          offset: String(100 + i),
          key: Buffer.from(`k${i}`),
          value: Buffer.from([0, 1, 2, i]),
        },
        { reason, detail: `bad ${reason}`, step: 'validate' },
      );
      return { key: rec.key, value: rec.value, headers: rec.headers };
    });
    // Records some other producer dead-lettered without Tally's headers still count, as 'unknown'.
    for (let i = 0; i < bare; i++) messages.push({ key: null, value: Buffer.from('??'), headers: {} });
    await producer.send({ topic: dlq, acks: -1, messages });
  } finally {
    await producer.disconnect();
  }
  for (const r of reasons) produced.set(r, (produced.get(r) ?? 0) + 1);
  if (bare) produced.set('unknown', (produced.get('unknown') ?? 0) + bare);
}

const expectedDeadLetters = () =>
  [...produced].map(([reason, count]) => ({ reason, count })).sort((a, b) => b.count - a.count || (a.reason < b.reason ? -1 : 1));

async function dashboardDoc(): Promise<DashboardSnapshot & { _id?: string }> {
  const doc = await w.mongo.collection<{ _id: string }>('analytics_snapshots').findOne({ _id: SNAPSHOT_IDS.dashboard });
  expect(doc).not.toBeNull();
  return doc as unknown as DashboardSnapshot;
}
async function pointer(): Promise<RecommendationPointerDoc> {
  return (await w.mongo
    .collection<{ _id: string }>('analytics_snapshots')
    .findOne({ _id: SNAPSHOT_IDS.recommendations })) as unknown as RecommendationPointerDoc;
}
async function liveRecommendations(): Promise<Map<number, UserRecommendationsDoc['items']>> {
  const p = await pointer();
  const docs = await w.mongo.collection<UserRecommendationsDoc>('recommendation_snapshots').find({ generation: p.generation }).toArray();
  return new Map(docs.map((d) => [d.user_id, d.items]));
}
const withoutTime = ({ generated_at, _id, ...rest }: DashboardSnapshot & { _id?: string }) => (void generated_at, void _id, rest);

beforeAll(async () => {
  w = await createWorld('sb');
  await seedWorld(w.tmp.db);
  dlq = `${w.prefix}dead-letter`;
  await createTopic(dlq, 2);
  await producePoison(
    ['schema_id_unknown', 'schema_id_unknown', 'jav_id', 'schema_id_unknown', 'not_avro', 'jav_id', 'schema_id_unknown'],
    1,
  );
});
afterAll(async () => {
  await deleteTopics([dlq]).catch(() => undefined);
  await destroyWorld(w);
});

describe('snapshot-builder', () => {
  it('stores a dashboard whose every figure equals a direct SQL recomputation, dead letters per reason included', async () => {
    await runOnce(w);
    const doc = await dashboardDoc();
    const { windows, dead_letters, ...figures } = withoutTime(doc);
    const expected = await expectedDashboard(w.tmp.db, doc.generated_at);
    expect({ generated_at: doc.generated_at, ...figures }).toEqual(expected);
    expect(dead_letters).toEqual(expectedDeadLetters());
    expect(windows).toMatchObject({ top_actors: '30d', daily_trends_days: 30 });
    // Not vacuous: the fixture fills every list.
    for (const w7 of ['24h', '7d', '30d', 'all'] as const) expect(doc.top_movies[w7].by_views.length).toBeGreaterThan(0);
    expect(doc.searches['7d'].zero_results.length).toBeGreaterThan(0);

    const reader = new AnalyticsReader({ mysql: w.tmp.db, catalog: DEMO_CATALOG, mongo: w.mongo, logger });
    const fromReader = await reader.dashboard();
    expect(fromReader.source).toBe('snapshot');
    expect(fromReader.snapshot).toEqual(withoutId(doc));
    const s = await reader.searches({ window: '7d', zeroResults: true, entityType: 'movie', limit: 5 });
    expect(s).toEqual({
      source: 'snapshot',
      generated_at: doc.generated_at,
      items: expected.searches['7d']!.zero_results.filter((x) => x.entity_type === 'movie').slice(0, 5),
    });
  });

  it('copies dead letters exactly once: a re-run, and a replay from position zero, add nothing', async () => {
    const count = async () => Number(((await w.tmp.db('dead_letters').count({ n: '*' })) as { n: number }[])[0]!.n);
    expect(await count()).toBe(8);
    const row = await w.tmp.db('dead_letters').where({ reason: 'not_avro' }).first();
    expect(row).toMatchObject({
      original_topic: `${w.prefix}movie.viewed`,
      event_type: 'movie.viewed',
      step: 'validate',
      service: 'event-logger',
      detail: 'bad not_avro',
    });

    await producePoison(['jav_id', 'occurred_at']);
    await runOnce(w);
    expect(await count()).toBe(10);
    expect((await dashboardDoc()).dead_letters).toEqual(expectedDeadLetters());

    await runOnce(w);
    await w.tmp.db('dead_letter_offsets').delete(); // a lost position: everything is read again
    await runOnce(w);
    expect(await count()).toBe(10);
    expect((await dashboardDoc()).dead_letters).toEqual(expectedDeadLetters());
  });

  it('a re-run gives the same output', async () => {
    await runOnce(w);
    const [a, ra] = [await dashboardDoc(), await liveRecommendations()];
    await runOnce(w);
    const [b, rb] = [await dashboardDoc(), await liveRecommendations()];
    expect(b.generated_at).not.toBe(a.generated_at);
    expect(withoutTime(b)).toEqual(withoutTime(a));
    expect(rb).toEqual(ra);
  });

  it('recommends 20 unseen movies per active user, each with a reason that names a seen movie or popularity', async () => {
    const recs = await liveRecommendations();
    const seen = await seenByUser(w.tmp.db);
    const active = [...seen.keys()].filter((u) => u < INACTIVE_FROM);
    expect([...recs.keys()].sort((x, y) => x - y)).toEqual(active.sort((x, y) => x - y));
    let coViewed = 0;
    for (const [user, items] of recs) {
      expect(items).toHaveLength(20);
      expect(new Set(items.map((i) => i.jav_id)).size).toBe(20);
      for (const item of items) {
        expect(seen.get(user)!.has(item.jav_id)).toBe(false);
        const m = /^co_viewed:(\d+)$/.exec(item.reason);
        if (m) {
          coViewed++;
          expect(seen.get(user)!.has(Number(m[1]))).toBe(true);
          expect(item.score).toBeGreaterThan(0);
        } else {
          expect(item.reason).toBe('popular');
        }
        expect(item.reason.length).toBeLessThanOrEqual(64);
      }
    }
    expect(coViewed).toBeGreaterThan(0);

    const reader = new AnalyticsReader({ mysql: w.tmp.db, catalog: DEMO_CATALOG, mongo: w.mongo, logger });
    const mine = await reader.recommendations(1, 5);
    expect(mine).toEqual({ source: 'snapshot', generated_at: (await pointer()).generated_at, items: recs.get(1)!.slice(0, 5) });
    // An inactive user has no stored list: the most viewed movies they have not seen.
    const inactive = await reader.recommendations(USERS, 10);
    expect(inactive.source).toBe('popularity_fallback');
    expect(inactive.items).toHaveLength(10);
    for (const i of inactive.items) expect(seen.get(USERS)?.has(i.jav_id) ?? false).toBe(false);
  });

  it('measures recommendation quality offline and reports it', async () => {
    await runOnce(w, ['--evaluate']);
    const q = (await w.mongo
      .collection<{ _id: string }>('analytics_snapshots')
      .findOne({ _id: SNAPSHOT_IDS.recommendationQuality })) as unknown as {
      users: number;
      k: number;
      hit_rate: number;
      popularity_hit_rate: number;
      lift: number | null;
    };
    process.stdout.write(
      `recommendation quality: ${q.users} users, hit rate@${q.k} ${q.hit_rate} vs popularity baseline ${q.popularity_hit_rate} (lift ${q.lift})\n`,
    );
    expect(q.users).toBeGreaterThan(20);
    expect(q.hit_rate).toBeGreaterThanOrEqual(0);
    expect(q.hit_rate).toBeLessThanOrEqual(1);
  });

  it('killed (SIGKILL) mid-build, the previous snapshots are still served; the next run cleans up', async () => {
    const before = await dashboardDoc();
    const beforePointer = await pointer();
    // A build killed while writing recommendations leaves documents of a generation no pointer names.
    await w.mongo
      .collection<UserRecommendationsDoc>('recommendation_snapshots')
      .insertOne({ _id: 'orphan:1', generation: 'orphan', user_id: 1, generated_at: 'x', items: [] });

    // Hold the build inside its MySQL phase: a table lock it must wait for.
    const lock = await mysql.createConnection(w.tmp.url);
    await lock.query('LOCK TABLES jav WRITE');
    const p = runBuilder(w);
    try {
      await p.until(
        async () => {
          const [rows] = (await lock.query(
            "SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE DB = ? AND STATE LIKE 'Waiting for table%'",
            [w.tmp.name],
          )) as unknown as [{ n: number }[]];
          return Number(rows[0]!.n) > 0 ? true : undefined;
        },
        60_000,
        `the build waiting on the jav lock`,
      );
      p.signal('SIGKILL');
      expect((await p.waitExit()).signal).toBe('SIGKILL');
    } finally {
      await lock.query('UNLOCK TABLES');
      await lock.end();
    }
    expect(await dashboardDoc()).toEqual(before);
    expect(await pointer()).toEqual(beforePointer);
    const reader = new AnalyticsReader({ mysql: w.tmp.db, catalog: DEMO_CATALOG, mongo: w.mongo, logger });
    expect((await reader.dashboard()).snapshot.generated_at).toBe(before.generated_at);
    expect((await reader.recommendations(1)).generated_at).toBe(beforePointer.generated_at);

    await runOnce(w);
    const runs = await w.tmp.db('job_runs').orderBy('id', 'desc').limit(2).pluck('status');
    expect(runs).toEqual(['succeeded', 'failed']); // the killed run, marked abandoned
    expect(await w.mongo.collection('recommendation_snapshots').countDocuments({ generation: 'orphan' })).toBe(0);
  });

  it('with MongoDB unreachable the reader answers from MySQL, marked as a fallback', async () => {
    const down = createMongo({ url: 'mongodb://127.0.0.1:1/tally_nowhere', serverSelectionTimeoutMs: 500 });
    try {
      const reader = new AnalyticsReader({ mysql: w.tmp.db, catalog: DEMO_CATALOG, mongo: down.db(), logger, mongoTimeoutMs: 300 });
      const d = await reader.dashboard();
      expect(d.source).toBe('mysql_fallback');
      const { windows, dead_letters, ...figures } = withoutTime(d.snapshot);
      void windows;
      expect({ generated_at: d.snapshot.generated_at, ...figures }).toEqual(await expectedDashboard(w.tmp.db, d.snapshot.generated_at));
      expect(dead_letters).toEqual(expectedDeadLetters());

      const s = await reader.searches({ window: '30d', zeroResults: false, entityType: 'tag' });
      expect(s.source).toBe('mysql_fallback');
      const exp = await expectedDashboard(w.tmp.db, s.generated_at);
      expect(s.items).toEqual(exp.searches['30d']!.popular.filter((x) => x.entity_type === 'tag'));

      const r = await reader.recommendations(1, 20);
      expect(r.source).toBe('popularity_fallback');
      expect(r.generated_at).toBeNull();
      const seen = (await seenByUser(w.tmp.db)).get(1)!;
      expect(r.items).toHaveLength(20);
      for (const i of r.items) expect(seen.has(i.jav_id)).toBe(false);
    } finally {
      await down.close();
    }
  });
});

function withoutId(doc: DashboardSnapshot & { _id?: string }): DashboardSnapshot {
  const { _id, ...rest } = doc;
  void _id;
  return rest;
}
