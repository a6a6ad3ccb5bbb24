import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { MongoClient } from 'mongodb';
import { createElasticsearchClient } from '@tally/clients';
import { createTempDatabase, migrateLatest, seedDemo, type TempDatabase } from '@tally/db';
import { eventDefinitions, type TopicNames } from '@tally/events';
import { env, uniqueName } from '../helpers/env';
import { deleteTopics } from '../helpers/kafka';
import { isolatedTopics } from '../helpers/pipeline';
import { ServiceProcess } from '../helpers/process';
import { startIngest, testPort } from '../helpers/services';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';
export const BROWSER_UA = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';

/**
 * One isolated pipeline for the query-api tests: its own topics (TOPIC_PREFIX), MySQL database,
 * Redis database (claimed empty, never a shared one), MongoDB database and Elasticsearch alias;
 * the real ingest-api, counter, event-logger and history processes; and query-api itself.
 */
export interface World {
  names: TopicNames;
  temp: TempDatabase;
  redis: Redis;
  redisUrl: string;
  mongoUrl: string;
  esPrefix: string;
  ingestUrl: string;
  queryUrl: string;
  groups: { counter: string; logger: string; history: string };
  procs: ServiceProcess[];
}

/** Redis databases the other suites flush (counter: 7–14) are skipped; the first empty one is claimed. */
async function claimRedisDb(): Promise<{ redis: Redis; url: string }> {
  for (const db of [15, 6, 5, 4, 3, 2, 1]) {
    const url = `${env.REDIS_URL}/${db}`;
    const r = new Redis(url);
    if ((await r.dbsize()) === 0 && (await r.set('tally:test:claimed-by', `query-api-${process.pid}`, 'EX', 3_600, 'NX')) === 'OK')
      return { redis: r, url };
    r.disconnect();
  }
  throw new Error('no empty Redis database to claim for the query-api tests');
}

/**
 * Tags as es-sync indexes them (services/es-sync/src/indices.ts, MAPPINGS.tags): a versioned index
 * behind the `<prefix>tags` alias, `name` as search_as_you_type, the movie count beside it.
 */
async function indexTags(temp: TempDatabase, esPrefix: string): Promise<void> {
  const es = createElasticsearchClient({ url: env.ES_URL, flavor: env.ES_FLAVOR });
  const index = `${esPrefix}tags_v1`;
  await es.indices.create({
    index,
    mappings: {
      dynamic: 'strict',
      properties: {
        id: { type: 'long' },
        name: { type: 'search_as_you_type', fields: { keyword: { type: 'keyword' } } },
        movie_count: { type: 'long' },
        synced_run: { type: 'long' },
      },
    },
    aliases: { [`${esPrefix}tags`]: {} },
  });
  const rows = (await temp
    .db('tags as t')
    .leftJoin('jav_tags as jt', 'jt.tag_id', 't.id')
    .groupBy('t.id', 't.name')
    .select('t.id', 't.name')
    .count({ movies: 'jt.jav_id' })) as unknown as { id: number; name: string; movies: number }[];
  await es.bulk({
    refresh: true,
    operations: rows.flatMap((r) => [
      { index: { _index: index, _id: String(r.id) } },
      { id: Number(r.id), name: String(r.name), movie_count: Number(r.movies), synced_run: 1 },
    ]),
  });
  await es.close();
}

export function startQueryApi(
  w: Pick<World, 'temp' | 'redisUrl' | 'mongoUrl' | 'esPrefix' | 'names' | 'groups' | 'procs'>,
  port: number,
  extra: Record<string, string> = {},
): { proc: ServiceProcess; url: string; ready: Promise<void> } {
  const proc = new ServiceProcess('services/query-api/dist/main.js', {
    PORT: String(port),
    LOG_LEVEL: 'warn',
    MYSQL_URL: w.temp.url,
    REDIS_URL: w.redisUrl,
    MONGO_URL: w.mongoUrl,
    ES_INDEX_PREFIX: w.esPrefix,
    TOPIC_PREFIX: w.names.prefix,
    ADMIN_TOKENS: ADMIN_TOKEN,
    CONSUMER_GROUPS: [w.groups.logger, w.groups.counter, w.groups.history].join(','),
    ...extra,
  });
  w.procs.push(proc);
  const url = `http://127.0.0.1:${port}`;
  return {
    proc,
    url,
    ready: proc
      .until(async () => ((await fetch(`${url}/readyz`)).ok ? true : undefined), 30_000, `query-api on ${url}`)
      .then(() => undefined),
  };
}

const managementPort = (i: number) => testPort(19300) + i;

export async function createWorld(): Promise<World> {
  const names = isolatedTopics();
  const temp = await createTempDatabase(env.MYSQL_URL, 'tally_query');
  await migrateLatest(temp.db);
  await seedDemo(temp.db, { movies: 30, actors: 10, tags: 8, users: 10, seed: 11 });
  const { redis, url: redisUrl } = await claimRedisDb();
  const id = randomUUID().replace(/-/g, '').slice(0, 10);
  const mongoUrl = `${env.MONGO_URL.replace(/\/[^/]*$/, '')}/tally_q_${id}`;
  const esPrefix = `q_${id}_`;
  await indexTags(temp, esPrefix);
  const groups = { counter: uniqueName('q_counter'), logger: uniqueName('q_logger'), history: uniqueName('q_history') };
  const procs: ServiceProcess[] = [];
  const base = { LOG_LEVEL: 'warn', TOPIC_PREFIX: names.prefix, MYSQL_URL: temp.url, KAFKA_SESSION_TIMEOUT: '6s' };
  procs.push(
    new ServiceProcess('services/counter/dist/main.js', {
      ...base,
      REDIS_URL: redisUrl,
      GROUP_ID: groups.counter,
      MANAGEMENT_PORT: String(managementPort(0)),
    }),
    new ServiceProcess('services/event-logger/dist/main.js', {
      ...base,
      GROUP_ID: groups.logger,
      MANAGEMENT_PORT: String(managementPort(1)),
    }),
    new ServiceProcess('services/history/dist/main.js', { ...base, GROUP_ID: groups.history, MANAGEMENT_PORT: String(managementPort(2)) }),
  );
  const ingest = await startIngest({ PORT: String(testPort(18300)), TOPIC_PREFIX: names.prefix });
  procs.push(ingest.proc);
  const w = { names, temp, redis, redisUrl, mongoUrl, esPrefix, ingestUrl: ingest.url, queryUrl: '', groups, procs };
  const q = startQueryApi(w, testPort(18400));
  await q.ready;
  w.queryUrl = q.url;
  // Every consumer ready, i.e. joined its group: events posted from now on are consumed promptly.
  for (const [i, what] of ['counter', 'event-logger', 'history'].entries()) {
    await procs[i]!.until(
      async () => ((await fetch(`http://127.0.0.1:${managementPort(i)}/readyz`).catch(() => undefined))?.ok ? true : undefined),
      60_000,
      `${what} ready`,
    );
  }
  return w;
}

export async function destroyWorld(w: World | undefined): Promise<void> {
  if (!w) return;
  await Promise.all(w.procs.map((p) => p.kill()));
  // Everything in the claimed database was written by this suite (its counter and its query-api).
  await w.redis.flushdb();
  w.redis.disconnect();
  await w.temp.drop();
  const es = createElasticsearchClient({ url: env.ES_URL, flavor: env.ES_FLAVOR });
  await es.indices.delete({ index: `${w.esPrefix}tags_v1` }).catch(() => undefined);
  await es.close();
  const mongo = new MongoClient(w.mongoUrl, { serverSelectionTimeoutMS: 3_000 });
  await mongo
    .db()
    .dropDatabase()
    .catch(() => undefined);
  await mongo.close();
  await deleteTopics([...eventDefinitions().map((d) => w.names.topicFor(d.type)), w.names.deadLetter]).catch(() => undefined);
}

/** Posts events to the real ingest API as the web app's pages would, and expects them all accepted. */
export async function postEvents(w: World, events: Record<string, unknown>[]): Promise<void> {
  for (let i = 0; i < events.length; i += 500) {
    const chunk = events.slice(i, i + 500);
    const res = await fetch(`${w.ingestUrl}/v1/events`, {
      method: 'POST',
      headers: { authorization: 'Bearer sk-test', 'content-type': 'application/json', 'user-agent': BROWSER_UA },
      body: JSON.stringify({ events: chunk }),
    });
    const body = (await res.json()) as { accepted: number; errors: unknown[] };
    if (res.status !== 202 || body.accepted !== chunk.length)
      throw new Error(`ingest refused events: ${res.status} ${JSON.stringify(body.errors ?? body).slice(0, 500)}`);
  }
}

/** A client-side event (what a page sends), fresh id and times. */
export function clientEvent(type: string, fields: Record<string, unknown>): Record<string, unknown> {
  return { type, event_id: randomUUID(), occurred_at: Date.now() - 1_000, sent_at: Date.now() - 500, ...fields };
}
