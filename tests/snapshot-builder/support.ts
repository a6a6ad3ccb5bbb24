import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { MongoClient, type Db } from 'mongodb';
import { createTempDatabase, migrateLatest, mulberry32, type TempDatabase } from '@tally/db';
import { createMongo } from '@tally/clients';
import { env, uniqueName } from '../helpers/env';
import { ServiceProcess } from '../helpers/process';

const DAY = 86_400_000;
const HOUR = 3_600_000;

/** A private MySQL database, MongoDB database and topic prefix for one test file. */
export interface World {
  tmp: TempDatabase;
  mongoUrl: string;
  mongoName: string;
  mongoClient: MongoClient;
  mongo: Db;
  prefix: string;
}

export async function createWorld(tag: string): Promise<World> {
  const tmp = await createTempDatabase(env.MYSQL_URL, `tally_test_${tag}`);
  await migrateLatest(tmp.db);
  const mongoName = uniqueName(`tally_test_${tag}`);
  const u = new URL(env.MONGO_URL);
  u.pathname = `/${mongoName}`;
  const mongoClient = createMongo({ url: u.toString() });
  return { tmp, mongoUrl: u.toString(), mongoName, mongoClient, mongo: mongoClient.db(), prefix: `${uniqueName(`t_${tag}`)}.` };
}

export async function destroyWorld(w: World): Promise<void> {
  // Only what this file created: its own MongoDB database and its own MySQL database.
  await w.mongo.dropDatabase().catch(() => undefined);
  await w.mongoClient.close();
  await w.tmp.drop();
}

export function runBuilder(w: World, args: string[] = ['--once'], extra: Record<string, string> = {}): ServiceProcess {
  return new ServiceProcess(
    'services/snapshot-builder/dist/main.js',
    {
      MYSQL_URL: w.tmp.url,
      MONGO_URL: w.mongoUrl,
      TOPIC_PREFIX: w.prefix,
      LOG_LEVEL: 'info',
      DLQ_COPY_TIMEOUT: '30s',
      ...extra,
    },
    args,
  );
}

export async function runOnce(w: World, args: string[] = ['--once']): Promise<string> {
  const p = runBuilder(w, args);
  const exit = await p.waitExit(120_000);
  if (exit.code !== 0) throw new Error(`snapshot-builder exited ${JSON.stringify(exit)}:\n${p.output}`);
  return p.output;
}

/**
 * Event times that stay at least an hour away from every window edge (24 h, 7 d, 30 d), so two builds
 * a few seconds apart see the same rows in every window.
 */
function safeAgo(rand: () => number): number {
  const edges = [24 * HOUR, 7 * DAY, 30 * DAY];
  for (;;) {
    const ago = Math.floor(rand() * 40 * DAY) + HOUR;
    if (edges.every((e) => Math.abs(ago - e) > HOUR)) return ago;
  }
}

const QUERIES = ['Tokyo', 'tokyo ', 'TOKYO', 'café', 'cafe', 'nothing here', 'zzz', 'actor a', 'Summer', 'summer', 'rare find'];
const ZERO_PRONE = new Set(['nothing here', 'zzz', 'rare find']);
const REASONS = ['co_viewed:3', 'co_viewed:7', 'co_viewed:12', 'popular', 'same_actor'];
export const MOVIES = 60;
export const USERS = 40;
/** Users 37..40 last viewed 60 days ago: not active, so no stored list. */
export const INACTIVE_FROM = 37;

async function insertChunks(db: Knex, table: string, rows: Record<string, unknown>[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 500) await db(table).insert(rows.slice(i, i + 500));
}

/**
 * A small catalog and event history with structure the figures must get right: crawlers mixed in,
 * anonymous views, case and accent variants of one query, zero-result searches, users in four taste
 * clusters (so co-occurrence has something to find), likes, and inactive users.
 */
export async function seedWorld(db: Knex, now = Date.now()): Promise<void> {
  const rand = mulberry32(20240607);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const at = (ago: number) => new Date(now - ago);
  const providers = ['alpha', 'beta', 'gamma'];
  await insertChunks(
    db,
    'jav',
    Array.from({ length: MOVIES }, (_, i) => ({
      id: i + 1,
      code: `TST-${String(i + 1).padStart(3, '0')}`,
      title: `Movie ${i + 1}`,
      provider: providers[i % 3],
      views: i % 7 === 0 ? 0 : Math.floor(rand() * 500),
      downloads: i % 5 === 0 ? 0 : Math.floor(rand() * 100),
    })),
  );
  await insertChunks(
    db,
    'actors',
    Array.from({ length: 8 }, (_, i) => ({ id: i + 1, name: `Actor ${i + 1}` })),
  );
  await insertChunks(
    db,
    'tags',
    Array.from({ length: 8 }, (_, i) => ({ id: i + 1, name: `tag-${i + 1}` })),
  );

  const base = (userId: number | null) => {
    const when = at(safeAgo(rand));
    return { event_id: randomUUID(), user_id: userId, is_bot: rand() < 0.1, occurred_at: when, received_at: when };
  };
  const user = () => (rand() < 0.2 ? null : 1 + Math.floor(rand() * USERS));
  // Movie 61 is not in the catalog: its events count nowhere the catalog is joined.
  const movie = () => (rand() < 0.02 ? MOVIES + 1 : 1 + Math.floor(Math.pow(rand(), 1.5) * MOVIES));
  // Every fifth view a repeat (VIEW_DEDUP_WINDOW): the top movies leave them out, the trends do not.
  await insertChunks(
    db,
    'view_events',
    Array.from({ length: 1500 }, (_, i) => ({ ...base(user()), jav_id: movie(), repeat_view: i % 5 === 4 })),
  );
  await insertChunks(
    db,
    'download_events',
    Array.from({ length: 400 }, () => ({ ...base(user()), jav_id: movie() })),
  );
  await insertChunks(
    db,
    'actor_view_events',
    Array.from({ length: 250 }, () => ({ ...base(user()), actor_id: 1 + Math.floor(rand() * 9) })),
  );
  await insertChunks(
    db,
    'tag_view_events',
    Array.from({ length: 250 }, () => ({ ...base(user()), tag_id: 1 + Math.floor(rand() * 8) })),
  );
  await insertChunks(
    db,
    'recommendation_click_events',
    Array.from({ length: 150 }, () => ({ ...base(user()), jav_id: movie(), reason: pick(REASONS) })),
  );
  await insertChunks(
    db,
    'search_events',
    Array.from({ length: 500 }, () => {
      const query = pick(QUERIES);
      return {
        ...base(user()),
        query,
        entity_type: pick(['movie', 'actor', 'tag']),
        result_count: ZERO_PRONE.has(query.trim()) && rand() < 0.8 ? 0 : Math.floor(rand() * 40),
      };
    }),
  );

  // History: user u is in cluster (u % 4), whose 15 movies they mostly watch; a few picks elsewhere.
  const history: Record<string, unknown>[] = [];
  const likes: Record<string, unknown>[] = [];
  for (let u = 1; u <= USERS; u++) {
    const cluster = u % 4;
    const seen = new Set<number>();
    const n = 6 + Math.floor(rand() * 7);
    while (seen.size < n) seen.add(rand() < 0.85 ? cluster * 15 + 1 + Math.floor(rand() * 15) : 1 + Math.floor(rand() * MOVIES));
    let k = 0;
    for (const jav of seen) {
      const ago = u >= INACTIVE_FROM ? 60 * DAY + k * HOUR : (k + 1) * 7 * HOUR;
      k++;
      history.push({
        user_id: u,
        jav_id: jav,
        view_count: 1 + Math.floor(rand() * 3),
        first_viewed_at: at(ago + DAY),
        last_viewed_at: at(ago),
      });
      if (rand() < 0.3) likes.push({ user_id: u, jav_id: jav, liked: true });
    }
  }
  await insertChunks(db, 'user_jav_history', history);
  await insertChunks(db, 'user_interactions', likes);
}

export { DAY, HOUR };
