/**
 * Snapshot build time on BENCH_VIEWS (default 1,000,000) view events, beside the physical limit
 * measured in the same run: one full scan of view_events. Also prints the recommendation quality
 * (held-out last view, hit rate vs popularity) on this data, and the dashboard's time on a copy with
 * BENCH_OLD_VIEWS (default as many) more views older than 30 days: old rows must not be read.
 * Each line carries its ratio to issue #19's target. Isolated: own MySQL database, own MongoDB
 * database, both dropped at the end. BENCH_PROFILE=1 prints every statement of ≥ 50 ms.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { MongoClient } from 'mongodb';
import { createTempDatabase, migrateLatest, type TempDatabase } from '@tally/db';
import { buildRecommendations, computeDashboard, evaluateRecommendations, SnapshotStore } from '@tally/analytics';
import { DEMO_CATALOG } from '@tally/catalog';

const env = process.env;
const VIEWS = Number(env.BENCH_VIEWS ?? 1_000_000);
const OLD_VIEWS = Number(env.BENCH_OLD_VIEWS ?? VIEWS);
/**
 * Issue #19's targets. The hit rate must not fall below the SQL build's: 0.288 in the issue was one
 * unseeded sample; on this seeded data at 1 M views the SQL build (commit b68868d) gave 0.2829, and
 * the typed-array build gives the same lists, so the same rate.
 */
const TARGETS = { recommendationsMs: 120_000, hitRate: 0.2829, dashboardWithOldRatio: 1.1, peakRssMb: 300 } as const;
const MOVIES = 20_000;
const USERS = 20_000;
const MYSQL_URL = env.MYSQL_URL ?? 'mysql://tally:tally@127.0.0.1:3306/tally';
const MONGO_URL = env.MONGO_URL ?? 'mongodb://127.0.0.1:27017/tally';

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = process.hrtime.bigint();
  const v = await fn();
  return [v, Number(process.hrtime.bigint() - t0) / 1e6];
}

const ANONYMOUS_OR_USER = `IF(RAND() < 0.2, NULL, 1 + FLOOR(RAND() * ${USERS}))`;

/**
 * The same data on every run: each RAND() of a statement gets its own seed (RAND(n) is a repeatable
 * sequence) and times count back from one instant, the build's `now`. Unseeded, the hit rate moved
 * between 0.287 and 0.295 from run to run with the same code.
 */
let seed = 0;
const seeded = (sql: string): string => sql.replace(/RAND\(\)/g, () => `RAND(${++seed})`);
const run = (t: TempDatabase, sql: string) => t.db.raw(seeded(sql));
const sqlTime = (d: Date): string => `TIMESTAMP'${d.toISOString().slice(0, 23).replace('T', ' ')}'`;

/** `n` view events at times `when` (SQL), 250,000 per statement. */
async function insertViews(t: TempDatabase, n: number, when: string): Promise<void> {
  for (let done = 0; done < n; done += 250_000) {
    await run(
      t,
      `INSERT INTO view_events (event_id, user_id, jav_id, is_bot, occurred_at, received_at)
       SELECT UUID(), u, IF(RAND() < 0.8, (COALESCE(u, seq) % 100) * 200 + 1 + FLOOR(POW(RAND(), 2) * 200), 1 + FLOOR(POW(RAND(), 3) * ${MOVIES})), RAND() < 0.05, w, w
         FROM (SELECT seq, ${ANONYMOUS_OR_USER} AS u, ${when} AS w FROM seq_1_to_${Math.min(250_000, n - done)}) s`,
    );
  }
}

/**
 * Server-side generation (INSERT … SELECT over MariaDB's seq_1_to_N): ~1 M rows in seconds, no
 * client round trips. Users watch mostly inside a taste cluster of 200 movies, with a popular tail.
 */
async function generate(t: TempDatabase, now: Date): Promise<void> {
  const db = { raw: (sql: string) => run(t, sql) };
  const ev = (n: number) => `FROM seq_1_to_${n}`;
  const when = `${sqlTime(now)} - INTERVAL FLOOR(RAND() * 40 * 86400) SECOND`;
  await db.raw(
    `INSERT INTO jav (id, code, title, provider, views, downloads) SELECT seq, CONCAT('BEN-', seq), CONCAT('Movie ', seq), CONCAT('provider-', seq % 12), FLOOR(RAND() * 10000), FLOOR(RAND() * 1000) ${ev(MOVIES)}`,
  );
  await db.raw(`INSERT INTO actors (id, name) SELECT seq, CONCAT('Actor ', seq) ${ev(2000)}`);
  await db.raw(`INSERT INTO tags (id, name) SELECT seq, CONCAT('tag-', seq) ${ev(500)}`);
  const user = ANONYMOUS_OR_USER;
  await insertViews(t, VIEWS, when);
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

/** BENCH_PROFILE=1: every statement's time, so a slow build says which step it spends in. */
function profileStatements(db: TempDatabase['db'], label = ''): void {
  const started = new Map<string, bigint>();
  db.on('query', (q: { __knexQueryUid: string }) => started.set(q.__knexQueryUid, process.hrtime.bigint()));
  db.on('query-response', (_r: unknown, q: { __knexQueryUid: string; sql: string }) => {
    const t0 = started.get(q.__knexQueryUid);
    if (t0 === undefined) return;
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (ms >= 50) process.stdout.write(`  ${label}${(ms / 1000).toFixed(2)} s  ${q.sql.replace(/\s+/g, ' ').slice(0, 110)}\n`);
  });
}

const round2 = (x: number): number => Math.round(x * 100) / 100;

async function dirtyPages(t: TempDatabase): Promise<number> {
  const [rows] = (await t.db.raw("SHOW GLOBAL STATUS LIKE 'Innodb_buffer_pool_pages_dirty'")) as [{ Value: string }[]];
  return Number(rows[0]?.Value ?? 0);
}

/** Waits (≤ 180 s) until InnoDB has written back what a bulk insert left dirty, to the level before it. */
async function settle(t: TempDatabase, before: number): Promise<number> {
  const t0 = Date.now();
  while (Date.now() - t0 < 180_000 && (await dirtyPages(t)) > Math.max(before * 1.5, 2_000)) await new Promise((r) => setTimeout(r, 1_000));
  return Math.round((Date.now() - t0) / 1000);
}

/** What computeDashboard reads. */
const DASHBOARD_TABLES = [
  'jav',
  'actors',
  'tags',
  'view_events',
  'download_events',
  'actor_view_events',
  'tag_view_events',
  'search_events',
  'recommendation_click_events',
  'dead_letters',
];

/** A fresh database holding a copy of what computeDashboard reads from `src`. */
async function dashboardCopy(src: TempDatabase, label: string): Promise<TempDatabase> {
  const t = await createTempDatabase(MYSQL_URL, `tally_bench_snapshot_${label}`);
  await migrateLatest(t.db);
  if (env.BENCH_PROFILE === '1') profileStatements(t.db, `[${label}] `);
  for (const table of DASHBOARD_TABLES) await t.db.raw('INSERT INTO ??.?? SELECT * FROM ??.??', [t.name, table, src.name, table]);
  return t;
}

/**
 * computeDashboard on two copies of the generated data made the same way, one of them with OLD_VIEWS
 * more views of 31 to 365 days ago: the windows reach 30 days back, so the time should not grow. After
 * one warm-up each, runs alternate base, old, old, base, … so both see the same load on this shared
 * machine (measured one phase after the other, the same dashboard read 3.4 s then 1.7 s as other work
 * came and went; the original database beside a fresh copy, 10–25 % apart on tables both hold alike);
 * best of BENCH_DASHBOARD_RUNS (default 5) each.
 */
async function dashboardWithOldEvents(src: TempDatabase, now: Date) {
  const runs = Number(env.BENCH_DASHBOARD_RUNS ?? 5);
  const dbs: TempDatabase[] = [];
  try {
    dbs.push(await dashboardCopy(src, 'base'), await dashboardCopy(src, 'old'));
    const [base, old] = dbs as [TempDatabase, TempDatabase];
    const dirty = await dirtyPages(old);
    await insertViews(old, OLD_VIEWS, `${sqlTime(now)} - INTERVAL (31 * 86400 + FLOOR(RAND() * 334 * 86400)) SECOND`);
    // Right after 1 M inserted rows the page cleaner competes with every read: the insert's cost, not the old rows'.
    const settledS = await settle(old, dirty);
    const dashboard = async (t: TempDatabase) => (await timed(() => computeDashboard(t.db, DEMO_CATALOG, now)))[1];
    await dashboard(base);
    await dashboard(old);
    const ms = { base: [] as number[], withOld: [] as number[] };
    for (let i = 0; i < runs; i++) {
      const order = i % 2 === 0 ? (['base', 'withOld'] as const) : (['withOld', 'base'] as const);
      for (const k of order) ms[k].push(await dashboard(k === 'base' ? base : old));
    }
    const [baseMs, withOldMs] = [Math.min(...ms.base), Math.min(...ms.withOld)];
    return {
      extra_events: OLD_VIEWS,
      runs,
      settled_s: settledS,
      base_ms: Math.round(baseMs),
      with_old_ms: Math.round(withOldMs),
      ratio: round2(withOldMs / baseMs),
      runs_ms: { base: ms.base.map(Math.round), with_old: ms.withOld.map(Math.round) },
    };
  } finally {
    for (const t of dbs) await t.drop();
  }
}

async function main(): Promise<void> {
  const temp = await createTempDatabase(MYSQL_URL, 'tally_bench_snapshot');
  const mongoName = temp.name;
  const u = new URL(MONGO_URL);
  u.pathname = `/${mongoName}`;
  const mongo = new MongoClient(u.toString(), { serverSelectionTimeoutMS: 3_000, retryWrites: false });
  try {
    await migrateLatest(temp.db);
    const now = new Date();
    const [, genMs] = await timed(() => generate(temp, now));
    const [[counts]] = (await temp.db.raw(
      'SELECT (SELECT COUNT(*) FROM view_events) AS views, (SELECT COUNT(*) FROM user_jav_history) AS history',
    )) as [[{ views: number; history: number }]];
    process.stdout.write(`generated ${counts.views} view events, ${counts.history} history rows in ${(genMs / 1000).toFixed(1)} s\n`);

    // Physical limit: one full scan of view_events (warm, as the build's own scans are).
    await temp.db.raw('SELECT SUM(jav_id) FROM view_events IGNORE INDEX (view_events_occurred_idx, view_events_window_idx)');
    const [, scanMs] = await timed(() =>
      temp.db.raw('SELECT SUM(jav_id + is_bot) FROM view_events IGNORE INDEX (view_events_occurred_idx, view_events_window_idx)'),
    );

    if (env.BENCH_PROFILE === '1') profileStatements(temp.db);
    const [dashboard, dashboardMs] = await timed(() => computeDashboard(temp.db, DEMO_CATALOG, now));
    const [recs, recsMs] = await timed(() => buildRecommendations(temp.db, DEMO_CATALOG, now));
    const peakRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
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
    const oldEvents = await dashboardWithOldEvents(temp, now);

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
      peak_rss_mb: peakRssMb,
      dashboard_old_events: oldEvents,
      targets: {
        recommendations_ms: TARGETS.recommendationsMs,
        hit_rate: TARGETS.hitRate,
        dashboard_with_old_ratio: TARGETS.dashboardWithOldRatio,
        peak_rss_mb: TARGETS.peakRssMb,
      },
      ratios_to_target: {
        recommendations: round2(recsMs / TARGETS.recommendationsMs),
        hit_rate: round2(quality.hit_rate / TARGETS.hitRate),
        dashboard_with_old: round2(oldEvents.ratio / TARGETS.dashboardWithOldRatio),
        peak_rss: round2(peakRssMb / TARGETS.peakRssMb),
      },
    };
    const r = result.ratios_to_target;
    process.stdout.write(
      `snapshot build: ${(buildMs / 1000).toFixed(2)} s (dashboard ${(dashboardMs / 1000).toFixed(2)} s, recommendations ${(recsMs / 1000).toFixed(2)} s for ${recs.users.length} users, mongo ${(writeMs / 1000).toFixed(2)} s)\n` +
        `physical limit: one full scan of view_events ${(scanMs / 1000).toFixed(2)} s → build = ${result.ratio_to_full_scan}× a full scan\n` +
        `recommendations: ${(recsMs / 1000).toFixed(2)} s → ${r.recommendations} of the target (≤ ${TARGETS.recommendationsMs / 1000} s)\n` +
        `recommendation quality: hit rate@${quality.k} ${quality.hit_rate} vs popularity ${quality.popularity_hit_rate} (lift ${quality.lift}, ${quality.users} users, ${(evalMs / 1000).toFixed(1)} s) → ${r.hit_rate}× the target (≥ ${TARGETS.hitRate})\n` +
        `peak RSS after the build: ${peakRssMb} MB → ${r.peak_rss} of the target (< ${TARGETS.peakRssMb} MB)\n` +
        `dashboard: ${(oldEvents.base_ms / 1000).toFixed(2)} s, with ${oldEvents.extra_events} more views older than 30 days ${(oldEvents.with_old_ms / 1000).toFixed(2)} s (best of ${oldEvents.runs} alternating runs, after ${oldEvents.settled_s} s for InnoDB to write back the insert) → ${oldEvents.ratio}, ${r.dashboard_with_old} of the target (≤ ${TARGETS.dashboardWithOldRatio})\n`,
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
