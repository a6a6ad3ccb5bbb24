/**
 * Snapshot build time on BENCH_VIEWS (default 1,000,000) view events, beside the physical limit
 * measured in the same run: one full scan of view_events. Also prints the recommendation quality
 * (held-out last view, hit rate vs popularity) on this data. Isolated: own MySQL database, own
 * MongoDB database, both dropped at the end.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { MongoClient } from 'mongodb';
import { createTempDatabase, migrateLatest, type TempDatabase } from '@tally/db';
import { buildRecommendations, computeDashboard, evaluateRecommendations, SnapshotStore } from '@tally/analytics';
import { DEMO_CATALOG } from '@tally/catalog';

const env = process.env;
const VIEWS = Number(env.BENCH_VIEWS ?? 1_000_000);
const MOVIES = 20_000;
const USERS = 20_000;
const MYSQL_URL = env.MYSQL_URL ?? 'mysql://tally:tally@127.0.0.1:3306/tally';
const MONGO_URL = env.MONGO_URL ?? 'mongodb://127.0.0.1:27017/tally';

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = process.hrtime.bigint();
  const v = await fn();
  return [v, Number(process.hrtime.bigint() - t0) / 1e6];
}

/**
 * Server-side generation (INSERT … SELECT over MariaDB's seq_1_to_N): ~1 M rows in seconds, no
 * client round trips. Users watch mostly inside a taste cluster of 200 movies, with a popular tail.
 */
async function generate(t: TempDatabase): Promise<void> {
  const db = t.db;
  const ev = (n: number) => `FROM seq_1_to_${n}`;
  const when = 'NOW(3) - INTERVAL FLOOR(RAND() * 40 * 86400) SECOND';
  await db.raw(
    `INSERT INTO jav (id, code, title, provider, views, downloads) SELECT seq, CONCAT('BEN-', seq), CONCAT('Movie ', seq), CONCAT('provider-', seq % 12), FLOOR(RAND() * 10000), FLOOR(RAND() * 1000) ${ev(MOVIES)}`,
  );
  await db.raw(`INSERT INTO actors (id, name) SELECT seq, CONCAT('Actor ', seq) ${ev(2000)}`);
  await db.raw(`INSERT INTO tags (id, name) SELECT seq, CONCAT('tag-', seq) ${ev(500)}`);
  const user = `IF(RAND() < 0.2, NULL, 1 + FLOOR(RAND() * ${USERS}))`;
  for (let done = 0; done < VIEWS; done += 250_000) {
    await db.raw(
      `INSERT INTO view_events (event_id, user_id, jav_id, is_bot, occurred_at, received_at)
       SELECT UUID(), u, IF(RAND() < 0.8, (COALESCE(u, seq) % 100) * 200 + 1 + FLOOR(POW(RAND(), 2) * 200), 1 + FLOOR(POW(RAND(), 3) * ${MOVIES})), RAND() < 0.05, w, w
         FROM (SELECT seq, ${user} AS u, ${when} AS w ${ev(Math.min(250_000, VIEWS - done))}) s`,
    );
  }
  await db.raw(
    `INSERT INTO download_events (event_id, user_id, jav_id, is_bot, occurred_at, received_at) SELECT UUID(), ${user}, 1 + FLOOR(POW(RAND(), 3) * ${MOVIES}), RAND() < 0.05, w, w FROM (SELECT seq, ${when} AS w ${ev(VIEWS / 5)}) s`,
  );
  await db.raw(
    `INSERT INTO actor_view_events (event_id, user_id, actor_id, is_bot, occurred_at, received_at) SELECT UUID(), ${user}, 1 + FLOOR(RAND() * 2000), 0, w, w FROM (SELECT seq, ${when} AS w ${ev(VIEWS / 10)}) s`,
  );
  await db.raw(
    `INSERT INTO tag_view_events (event_id, user_id, tag_id, is_bot, occurred_at, received_at) SELECT UUID(), ${user}, 1 + FLOOR(RAND() * 500), 0, w, w FROM (SELECT seq, ${when} AS w ${ev(VIEWS / 10)}) s`,
  );
  await db.raw(`INSERT INTO search_events (event_id, user_id, query, entity_type, result_count, is_bot, occurred_at, received_at)
                SELECT UUID(), ${user}, CONCAT('query ', FLOOR(POW(RAND(), 3) * 5000)), ELT(1 + FLOOR(RAND() * 3), 'movie', 'actor', 'tag'), IF(RAND() < 0.1, 0, FLOOR(RAND() * 50)), 0, w, w
                  FROM (SELECT seq, ${when} AS w ${ev(VIEWS / 10)}) s`);
  await db.raw(`INSERT INTO recommendation_click_events (event_id, user_id, jav_id, reason, is_bot, occurred_at, received_at)
                SELECT UUID(), ${user}, 1 + FLOOR(RAND() * ${MOVIES}), ELT(1 + FLOOR(RAND() * 2), CONCAT('co_viewed:', seq), 'popular'), 0, w, w FROM (SELECT seq, ${when} AS w ${ev(VIEWS / 50)}) s`);
  // History as the history service would have built it from these views.
  await db.raw(`INSERT INTO user_jav_history (user_id, jav_id, view_count, first_viewed_at, last_viewed_at)
                SELECT user_id, jav_id, COUNT(*), MIN(occurred_at), MAX(occurred_at) FROM view_events WHERE user_id IS NOT NULL AND is_bot = 0 GROUP BY user_id, jav_id`);
  await db.raw(`INSERT INTO user_interactions (user_id, jav_id, liked) SELECT user_id, jav_id, 1 FROM user_jav_history WHERE RAND() < 0.1`);
}

async function main(): Promise<void> {
  const temp = await createTempDatabase(MYSQL_URL, 'tally_bench_snapshot');
  const mongoName = temp.name;
  const u = new URL(MONGO_URL);
  u.pathname = `/${mongoName}`;
  const mongo = new MongoClient(u.toString(), { serverSelectionTimeoutMS: 3_000, retryWrites: false });
  try {
    await migrateLatest(temp.db);
    const [, genMs] = await timed(() => generate(temp));
    const [[counts]] = (await temp.db.raw(
      'SELECT (SELECT COUNT(*) FROM view_events) AS views, (SELECT COUNT(*) FROM user_jav_history) AS history',
    )) as [[{ views: number; history: number }]];
    process.stdout.write(`generated ${counts.views} view events, ${counts.history} history rows in ${(genMs / 1000).toFixed(1)} s\n`);

    // Physical limit: one full scan of view_events (warm, as the build's own scans are).
    await temp.db.raw('SELECT SUM(jav_id) FROM view_events IGNORE INDEX (view_events_occurred_idx)');
    const [, scanMs] = await timed(() =>
      temp.db.raw('SELECT SUM(jav_id + is_bot) FROM view_events IGNORE INDEX (view_events_occurred_idx)'),
    );

    const now = new Date();
    const [dashboard, dashboardMs] = await timed(() => computeDashboard(temp.db, DEMO_CATALOG, now));
    const [recs, recsMs] = await timed(() => buildRecommendations(temp.db, DEMO_CATALOG, now));
    const store = new SnapshotStore(mongo.db());
    const [, writeMs] = await timed(async () => {
      await store.writeDashboard(dashboard);
      await store.writeRecommendations(recs.users, dashboard.generated_at);
    });
    const buildMs = dashboardMs + recsMs + writeMs;
    process.stdout.write(
      `snapshot build: ${(buildMs / 1000).toFixed(2)} s; one full scan of view_events ${(scanMs / 1000).toFixed(2)} s (evaluating quality next)\n`,
    );
    const [quality, evalMs] = await timed(() => evaluateRecommendations(temp.db, DEMO_CATALOG, now));

    const result = {
      at: new Date().toISOString(),
      views: Number(counts.views),
      history_rows: Number(counts.history),
      movies: MOVIES,
      users: USERS,
      full_scan_ms: Math.round(scanMs),
      build_ms: Math.round(buildMs),
      phases_ms: { dashboard: Math.round(dashboardMs), recommendations: Math.round(recsMs), mongo_write: Math.round(writeMs) },
      ratio_to_full_scan: Math.round((buildMs / scanMs) * 10) / 10,
      recommendation_users: recs.users.length,
      quality,
      evaluate_ms: Math.round(evalMs),
    };
    process.stdout.write(
      `snapshot build: ${(buildMs / 1000).toFixed(2)} s (dashboard ${(dashboardMs / 1000).toFixed(2)} s, recommendations ${(recsMs / 1000).toFixed(2)} s for ${recs.users.length} users, mongo ${(writeMs / 1000).toFixed(2)} s)\n` +
        `physical limit: one full scan of view_events ${(scanMs / 1000).toFixed(2)} s → build = ${result.ratio_to_full_scan}× a full scan\n` +
        `recommendation quality: hit rate@${quality.k} ${quality.hit_rate} vs popularity ${quality.popularity_hit_rate} (lift ${quality.lift}, ${quality.users} users, ${(evalMs / 1000).toFixed(1)} s)\n`,
    );
    mkdirSync(resolve(__dirname, '../results'), { recursive: true });
    const file = resolve(__dirname, `../results/snapshot-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, JSON.stringify(result, null, 2));
    process.stdout.write(`results: ${file}\n`);
  } finally {
    await mongo
      .db()
      .dropDatabase()
      .catch(() => undefined);
    await mongo.close();
    await temp.drop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
