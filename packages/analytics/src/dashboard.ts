import type { Knex } from 'knex';
import { q, type Catalog } from '@tally/catalog';
import type { DashboardSnapshot, DailyTrend, SearchStat, SearchStats, SearchWindow, TopMovie, TopWindow } from './types';
import { SEARCH_WINDOWS } from './types';
import { compareUtf8, dailySeries, firstDay, isoDate, topBy, windowStart } from './windows';

export const DASHBOARD_LIMITS = { topMovies: 50, topActors: 50, topTags: 50, searches: 50, trendDays: 30 } as const;
/** Window of the figures whose name carries none (actors, tags, recommendation clicks). */
const RECENT: SearchWindow = '30d';

type Row = Record<string, unknown>;
const num = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));

async function rows(db: Knex, sql: string, bindings: readonly unknown[] = []): Promise<Row[]> {
  const [r] = (await db.raw(sql, bindings as Knex.RawBinding[])) as [Row[]];
  return r;
}

/**
 * Every dashboard figure, computed in MySQL (FerretDB cannot aggregate). Windowed figures come from
 * the raw logs (Tally's own tables) with crawlers left out, as the counters leave them out; windows
 * are [now − w, now). Movies, actors and tags are the app's, read through the catalog mapping.
 * `now` is a parameter so a rebuild at the same instant gives the same snapshot.
 */
export async function computeDashboard(db: Knex, catalog: Catalog, now: Date = new Date()): Promise<DashboardSnapshot> {
  const [top_movies, daily_trends, providers, top_actors, top_tags, searches, recommendation_clicks, dead_letters] = await Promise.all([
    topMovies(db, catalog, now),
    dailyTrends(db, now),
    providerStats(db, catalog),
    topNamed(db, catalog, now, 'actor_view_events', 'actor_id', 'actors').then((r) =>
      r.map((x) => ({ actor_id: x.id, name: x.name, views: x.views })),
    ),
    topNamed(db, catalog, now, 'tag_view_events', 'tag_id', 'tags').then((r) =>
      r.map((x) => ({ tag_id: x.id, name: x.name, views: x.views })),
    ),
    searchStats(db, now),
    recommendationClicks(db, now),
    deadLetterCounts(db),
  ]);
  return {
    generated_at: now.toISOString(),
    top_movies,
    daily_trends,
    providers,
    top_actors,
    top_tags,
    searches,
    recommendation_clicks,
    dead_letters,
    windows: {
      daily_trends_days: DASHBOARD_LIMITS.trendDays,
      top_actors: RECENT,
      top_tags: RECENT,
      recommendation_clicks: RECENT,
      providers: 'all',
      dead_letters: 'all',
    },
  };
}

type MovieCounts = { jav_id: number; code: string; title: string; c24: number; c7: number; c30: number };

/** `j.code AS code, j.title AS title` over the app's movies table, whatever its columns are called. */
function codeAndTitle(catalog: Catalog, alias: string): string {
  const d = catalog.movies.display;
  return `${alias}.${q(d.code)} AS code, ${alias}.${q(d.title)} AS title`;
}

/**
 * One scan of the 30-day range per log serves all three windows (conditional sums) instead of three
 * range scans. Counting happens before the join to the movies (one lookup per movie, not per event);
 * movies no longer in the catalog drop out there, BEFORE ranking, so every list is a full top N. Views
 * count as the counters count them: repeat views (VIEW_DEDUP_WINDOW) are left out, so the windowed
 * tops agree with `all` (jav.views).
 */
async function windowCounts(db: Knex, catalog: Catalog, table: 'view_events' | 'download_events', now: Date): Promise<MovieCounts[]> {
  const counted = table === 'view_events' ? 'is_bot = 0 AND repeat_view = 0' : 'is_bot = 0';
  const r = await rows(
    db,
    `SELECT x.jav_id, ${codeAndTitle(catalog, 'j')}, x.c24, x.c7, x.c30 FROM
       (SELECT jav_id, SUM(occurred_at >= ?) AS c24, SUM(occurred_at >= ?) AS c7, COUNT(*) AS c30
          FROM ?? WHERE ${counted} AND occurred_at >= ? AND occurred_at < ? GROUP BY jav_id) x
       JOIN ${catalog.sql('movies')} j ON j.${q(catalog.movies.id)} = x.jav_id`,
    [windowStart(now, '24h'), windowStart(now, '7d'), table, windowStart(now, '30d'), now],
  );
  return r.map((x) => ({
    jav_id: num(x.jav_id),
    code: String(x.code),
    title: String(x.title),
    c24: num(x.c24),
    c7: num(x.c7),
    c30: num(x.c30),
  }));
}

/** The all-time top list, from the counter columns Tally keeps in the app's movies table. */
function allTimeTop(db: Knex, catalog: Catalog, metric: 'views' | 'downloads', limit: number): Promise<Row[]> {
  const id = `j.${q(catalog.movies.id)}`;
  const count = `j.${q(catalog.movies.counts[metric])}`;
  return rows(
    db,
    `SELECT ${id} AS jav_id, ${codeAndTitle(catalog, 'j')}, ${count} AS count FROM ${catalog.sql('movies')} j WHERE ${count} > 0 ORDER BY ${count} DESC, ${id} ASC LIMIT ?`,
    [limit],
  );
}

async function topMovies(db: Knex, catalog: Catalog, now: Date): Promise<DashboardSnapshot['top_movies']> {
  const limit = DASHBOARD_LIMITS.topMovies;
  const [views, downloads, allViews, allDownloads] = await Promise.all([
    windowCounts(db, catalog, 'view_events', now),
    windowCounts(db, catalog, 'download_events', now),
    allTimeTop(db, catalog, 'views', limit),
    allTimeTop(db, catalog, 'downloads', limit),
  ]);
  const pick = (list: MovieCounts[], key: 'c24' | 'c7' | 'c30'): TopMovie[] =>
    topBy(
      list,
      (x) => x[key],
      (x) => x.jav_id,
      limit,
    ).map((x) => ({ jav_id: x.jav_id, code: x.code, title: x.title, count: x[key] }));
  const fromJav = (list: Row[]): TopMovie[] =>
    list.map((m) => ({ jav_id: num(m.jav_id), code: String(m.code), title: String(m.title), count: num(m.count) }));
  const out = {} as Record<TopWindow, { by_views: TopMovie[]; by_downloads: TopMovie[] }>;
  for (const [w, key] of [
    ['24h', 'c24'],
    ['7d', 'c7'],
    ['30d', 'c30'],
  ] as const)
    out[w] = { by_views: pick(views, key), by_downloads: pick(downloads, key) };
  out.all = { by_views: fromJav(allViews), by_downloads: fromJav(allDownloads) };
  return out;
}

async function dailyTrends(db: Knex, now: Date): Promise<DailyTrend[]> {
  const days = DASHBOARD_LIMITS.trendDays;
  const from = firstDay(now, days);
  const [views, downloads] = await Promise.all([
    rows(
      db,
      `SELECT DATE(occurred_at) AS d, COUNT(*) AS n, COUNT(DISTINCT user_id) AS u FROM view_events
               WHERE is_bot = 0 AND occurred_at >= ? AND occurred_at < ? GROUP BY DATE(occurred_at)`,
      [from, now],
    ),
    rows(
      db,
      `SELECT DATE(occurred_at) AS d, COUNT(*) AS n FROM download_events
               WHERE is_bot = 0 AND occurred_at >= ? AND occurred_at < ? GROUP BY DATE(occurred_at)`,
      [from, now],
    ),
  ]);
  const v = new Map(views.map((r) => [isoDate(r.d as Date), r]));
  const d = new Map(downloads.map((r) => [isoDate(r.d as Date), r]));
  return dailySeries(now, days).map((date) => ({
    date,
    views: num(v.get(date)?.n),
    downloads: num(d.get(date)?.n),
    unique_viewers: num(v.get(date)?.u),
  }));
}

/** Per provider; none when the app has no provider column (movies.display.provider = null). */
async function providerStats(db: Knex, catalog: Catalog): Promise<DashboardSnapshot['providers']> {
  const m = catalog.movies;
  if (m.display.provider === null) return [];
  const views = `SUM(j.${q(m.counts.views)})`;
  const r = await rows(
    db,
    `SELECT j.${q(m.display.provider)} AS provider, COUNT(*) AS movies, ${views} AS views, SUM(j.${q(m.counts.downloads)}) AS downloads
                              FROM ${catalog.sql('movies')} j GROUP BY j.${q(m.display.provider)} ORDER BY ${views} DESC, provider ASC`,
  );
  return r.map((x) => ({
    provider: x.provider === null ? null : String(x.provider),
    movies: num(x.movies),
    views: num(x.views),
    downloads: num(x.downloads),
  }));
}

async function topNamed(
  db: Knex,
  catalog: Catalog,
  now: Date,
  log: string,
  column: string,
  part: 'actors' | 'tags',
): Promise<{ id: number; name: string; views: number }[]> {
  const names = catalog.mapping[part];
  const r = await rows(
    db,
    `SELECT x.id, n.${q(names.name)} AS name, x.views FROM
       (SELECT ?? AS id, COUNT(*) AS views FROM ?? WHERE is_bot = 0 AND occurred_at >= ? AND occurred_at < ? GROUP BY ??) x
       JOIN ${catalog.sql(part)} n ON n.${q(names.id)} = x.id ORDER BY x.views DESC, x.id ASC LIMIT ?`,
    [column, log, windowStart(now, RECENT), now, column, DASHBOARD_LIMITS.topActors],
  );
  return r.map((x) => ({ id: num(x.id), name: String(x.name), views: num(x.views) }));
}

/**
 * Per window, the top `limit` queries of EACH entity type (by searches, and by zero-result searches),
 * so a reader filtering on one entity type still gets a full, exact top list. Queries are grouped by
 * their lower-cased, trimmed text in binary collation: the column's unicode_ci collation would fold
 * "café" into "cafe" and return either spelling.
 */
export async function searchStats(db: Knex, now: Date, only?: { window: SearchWindow; entityType?: string }): Promise<SearchStats> {
  const limit = DASHBOARD_LIMITS.searches;
  const out = {} as SearchStats;
  for (const w of SEARCH_WINDOWS) {
    if (only && only.window !== w) {
      out[w] = { popular: [], zero_results: [] };
      continue;
    }
    const typeFilter = only?.entityType ? 'AND entity_type = ?' : '';
    const r = await rows(
      db,
      `SELECT q, entity_type, searches, zero, avg_results, rp, rz FROM (
         SELECT q, entity_type, searches, zero, avg_results,
                ROW_NUMBER() OVER (PARTITION BY entity_type ORDER BY searches DESC, q ASC) AS rp,
                ROW_NUMBER() OVER (PARTITION BY entity_type ORDER BY zero DESC, q ASC) AS rz
           FROM (SELECT LOWER(TRIM(query)) COLLATE utf8mb4_bin AS q, entity_type, COUNT(*) AS searches,
                        SUM(result_count = 0) AS zero, ROUND(AVG(result_count), 2) AS avg_results
                   FROM search_events WHERE is_bot = 0 AND occurred_at >= ? AND occurred_at < ? ${typeFilter}
                  GROUP BY LOWER(TRIM(query)) COLLATE utf8mb4_bin, entity_type) g
       ) ranked WHERE rp <= ? OR (rz <= ? AND zero > 0)`,
      [windowStart(now, w), now, ...(only?.entityType ? [only.entityType] : []), limit, limit],
    );
    const stat = (x: Row): SearchStat => ({
      query: String(x.q),
      entity_type: String(x.entity_type),
      searches: num(x.searches),
      zero_result_searches: num(x.zero),
      avg_results: num(x.avg_results),
    });
    out[w] = {
      popular: sortStats(r.filter((x) => num(x.rp) <= limit).map(stat), 'searches'),
      zero_results: sortStats(r.filter((x) => num(x.rz) <= limit && num(x.zero) > 0).map(stat), 'zero_result_searches'),
    };
  }
  return out;
}

/** Highest first; ties by query bytes then entity type (the order SQL's binary collation gives). */
export function sortStats(list: SearchStat[], key: 'searches' | 'zero_result_searches'): SearchStat[] {
  return list.sort((a, b) => b[key] - a[key] || compareUtf8(a.query, b.query) || compareUtf8(a.entity_type, b.entity_type));
}

/**
 * Clicks per kind of reason: the part before ':' (`co_viewed:123` counts as `co_viewed`), so the
 * figure compares recommendation strategies rather than listing one row per seed movie.
 */
async function recommendationClicks(db: Knex, now: Date): Promise<DashboardSnapshot['recommendation_clicks']> {
  const r = await rows(
    db,
    `SELECT SUBSTRING_INDEX(reason, ':', 1) COLLATE utf8mb4_bin AS kind, COUNT(*) AS clicks FROM recommendation_click_events
      WHERE is_bot = 0 AND occurred_at >= ? AND occurred_at < ? GROUP BY kind ORDER BY clicks DESC, kind ASC`,
    [windowStart(now, RECENT), now],
  );
  return r.map((x) => ({ reason: String(x.kind), clicks: num(x.clicks) }));
}

async function deadLetterCounts(db: Knex): Promise<DashboardSnapshot['dead_letters']> {
  const r = await rows(db, 'SELECT reason, COUNT(*) AS n FROM dead_letters GROUP BY reason ORDER BY n DESC, reason ASC');
  return r.map((x) => ({ reason: String(x.reason), count: num(x.n) }));
}
