import type { Knex } from 'knex';

// The figures recomputed straight from the tables, written apart from @tally/analytics: one plain
// query per window and per day (no shared scans), and the search and click groupings done in JS.

type Row = Record<string, unknown>;
const n = (v: unknown) => Number(v ?? 0);
const DAY = 86_400_000;
const WINDOWS = { '24h': DAY, '7d': 7 * DAY, '30d': 30 * DAY } as const;

async function q(db: Knex, sql: string, b: unknown[] = []): Promise<Row[]> {
  return ((await db.raw(sql, b as Knex.RawBinding[])) as [Row[]])[0];
}

async function topWindow(db: Knex, table: string, from: Date, to: Date) {
  // Repeat views (VIEW_DEDUP_WINDOW) are not counted, as the counters do not count them.
  const repeats = table === 'view_events' ? 'AND e.repeat_view = 0' : '';
  const r = await q(
    db,
    `SELECT e.jav_id, j.code, j.title, COUNT(*) AS c FROM ${table} e INNER JOIN jav j ON j.id = e.jav_id
                          WHERE e.is_bot = 0 ${repeats} AND e.occurred_at >= ? AND e.occurred_at < ?
                          GROUP BY e.jav_id, j.code, j.title ORDER BY c DESC, e.jav_id ASC LIMIT 50`,
    [from, to],
  );
  return r.map((x) => ({ jav_id: n(x.jav_id), code: String(x.code), title: String(x.title), count: n(x.c) }));
}

async function topAll(db: Knex, column: 'views' | 'downloads') {
  const r = await q(db, `SELECT id, code, title, ${column} AS c FROM jav WHERE ${column} <> 0 ORDER BY ${column} DESC, id ASC LIMIT 50`);
  return r.map((x) => ({ jav_id: n(x.id), code: String(x.code), title: String(x.title), count: n(x.c) }));
}

const bytes = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

function searchLists(rows: Row[]) {
  const groups = new Map<string, { query: string; entity_type: string; searches: number; zero: number; sum: number }>();
  for (const r of rows) {
    const query = String(r.query).trim().toLowerCase();
    const key = `${query}\u0000${String(r.entity_type)}`;
    const g = groups.get(key) ?? { query, entity_type: String(r.entity_type), searches: 0, zero: 0, sum: 0 };
    g.searches++;
    if (n(r.result_count) === 0) g.zero++;
    g.sum += n(r.result_count);
    groups.set(key, g);
  }
  // MySQL: AVG of integers carries 4 decimals, then ROUND(…, 2).
  const stats = [...groups.values()].map((g) => ({
    query: g.query,
    entity_type: g.entity_type,
    searches: g.searches,
    zero_result_searches: g.zero,
    avg_results: Math.round(Math.round((g.sum * 10_000) / g.searches) / 100) / 100,
  }));
  const top = (key: 'searches' | 'zero_result_searches') => {
    const out: typeof stats = [];
    for (const type of new Set(stats.map((s) => s.entity_type))) {
      out.push(
        ...stats
          .filter((s) => s.entity_type === type && s[key] > 0)
          .sort((a, b) => b[key] - a[key] || bytes(a.query, b.query))
          .slice(0, 50),
      );
    }
    return out.sort((a, b) => b[key] - a[key] || bytes(a.query, b.query) || bytes(a.entity_type, b.entity_type));
  };
  return { popular: top('searches'), zero_results: top('zero_result_searches') };
}

export async function expectedDashboard(db: Knex, generatedAt: string) {
  const now = new Date(generatedAt);
  const since = (ms: number) => new Date(now.getTime() - ms);
  const top_movies: Record<string, unknown> = {};
  const searches: Record<string, ReturnType<typeof searchLists>> = {};
  for (const [w, ms] of Object.entries(WINDOWS)) {
    top_movies[w] = {
      by_views: await topWindow(db, 'view_events', since(ms), now),
      by_downloads: await topWindow(db, 'download_events', since(ms), now),
    };
    searches[w] = searchLists(
      await q(db, 'SELECT query, entity_type, result_count FROM search_events WHERE is_bot = 0 AND occurred_at >= ? AND occurred_at < ?', [
        since(ms),
        now,
      ]),
    );
  }
  top_movies.all = { by_views: await topAll(db, 'views'), by_downloads: await topAll(db, 'downloads') };

  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  const daily_trends = [];
  for (let i = 29; i >= 0; i--) {
    const start = new Date(today - i * DAY);
    const end = new Date(Math.min(start.getTime() + DAY, now.getTime()));
    const [v] = await q(
      db,
      'SELECT COUNT(*) AS c, COUNT(DISTINCT user_id) AS u FROM view_events WHERE is_bot = 0 AND occurred_at >= ? AND occurred_at < ?',
      [start, end],
    );
    const [d] = await q(db, 'SELECT COUNT(*) AS c FROM download_events WHERE is_bot = 0 AND occurred_at >= ? AND occurred_at < ?', [
      start,
      end,
    ]);
    daily_trends.push({ date: start.toISOString().slice(0, 10), views: n(v!.c), downloads: n(d!.c), unique_viewers: n(v!.u) });
  }

  const providers = (
    await q(
      db,
      'SELECT provider, COUNT(id) AS m, SUM(views) AS v, SUM(downloads) AS d FROM jav GROUP BY provider ORDER BY v DESC, provider ASC',
    )
  ).map((x) => ({ provider: String(x.provider), movies: n(x.m), views: n(x.v), downloads: n(x.d) }));
  const named = async (log: string, col: string, names: string) =>
    q(
      db,
      `SELECT x.id, x.name, COUNT(*) AS c FROM ${log} e INNER JOIN ${names} x ON x.id = e.${col}
            WHERE e.is_bot = 0 AND e.occurred_at >= ? AND e.occurred_at < ? GROUP BY x.id, x.name ORDER BY c DESC, x.id ASC LIMIT 50`,
      [since(WINDOWS['30d']), now],
    );
  const top_actors = (await named('actor_view_events', 'actor_id', 'actors')).map((x) => ({
    actor_id: n(x.id),
    name: String(x.name),
    views: n(x.c),
  }));
  const top_tags = (await named('tag_view_events', 'tag_id', 'tags')).map((x) => ({
    tag_id: n(x.id),
    name: String(x.name),
    views: n(x.c),
  }));

  const clicks = new Map<string, number>();
  for (const r of await q(db, 'SELECT reason FROM recommendation_click_events WHERE is_bot = 0 AND occurred_at >= ? AND occurred_at < ?', [
    since(WINDOWS['30d']),
    now,
  ])) {
    const kind = String(r.reason).split(':')[0]!;
    clicks.set(kind, (clicks.get(kind) ?? 0) + 1);
  }
  const recommendation_clicks = [...clicks]
    .map(([reason, c]) => ({ reason, clicks: c }))
    .sort((a, b) => b.clicks - a.clicks || bytes(a.reason, b.reason));
  return { generated_at: generatedAt, top_movies, daily_trends, providers, top_actors, top_tags, searches, recommendation_clicks };
}

/** Every movie a user must not be recommended: watched or downloaded (history), or liked. */
export async function seenByUser(db: Knex): Promise<Map<number, Set<number>>> {
  const out = new Map<number, Set<number>>();
  for (const r of await q(
    db,
    'SELECT user_id, jav_id FROM user_jav_history UNION SELECT user_id, jav_id FROM user_interactions WHERE liked = 1',
  )) {
    const s = out.get(n(r.user_id)) ?? new Set<number>();
    s.add(n(r.jav_id));
    out.set(n(r.user_id), s);
  }
  return out;
}
