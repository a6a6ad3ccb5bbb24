import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { MongoClient } from 'mongodb';
import { chromium, type Browser } from 'playwright-core';
import { computeDashboard, SnapshotStore } from '@tally/analytics';
import { DEMO_CATALOG } from '@tally/catalog';
import { eventually } from '../helpers/env';
import { testPort } from '../helpers/services';
import { ADMIN_TOKEN, clientEvent, createWorld, destroyWorld, postEvents, startQueryApi, type World } from './world';

// query-api as a real process over data that went through the real pipeline: events POSTed to
// ingest-api, carried by Kafka, applied by the counter (Redis), event-logger (raw logs) and history.
let w: World;
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
const get = async (path: string, headers: Record<string, string> = {}, base = w.queryUrl) => {
  const res = await fetch(`${base}${path}`, { headers });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
};
const mysqlCounts = async (id: number) => {
  const r = await w.temp.db('jav').where({ id }).first('views', 'downloads', 'likes', 'rating_count', 'rating_sum', 'watchlists');
  const ratings = Number(r.rating_count);
  return {
    views: Number(r.views),
    downloads: Number(r.downloads),
    likes: Number(r.likes),
    rating_count: ratings,
    rating_avg: ratings > 0 ? Math.round((Number(r.rating_sum) / ratings) * 100) / 100 : null,
    watchlists: Number(r.watchlists),
  };
};

// What this suite sends: movie 7 viewed 12 times (by users 1–3), downloaded 4 times, liked 3 times;
// user 5 views movies 2, 3 and 4 in that order; searches that found nothing; recommendation clicks.
const HOT = 7;
const ZERO_QUERY = 'qa-nothing-matches';

beforeAll(async () => {
  w = await createWorld();
}, 240_000);

afterAll(async () => {
  await destroyWorld(w);
}, 60_000);

describe('query-api over the real pipeline', () => {
  it('counts: seeded from MySQL for an untouched movie, then MySQL + what the counter applied', async () => {
    const before = await mysqlCounts(HOT);
    expect((await get(`/v1/movies/${HOT}/counts`)).body).toEqual({ jav_id: HOT, ...before });

    const events = [
      ...Array.from({ length: 12 }, (_, i) => clientEvent('movie.viewed', { jav_id: HOT, user_id: 1 + (i % 3) })),
      ...Array.from({ length: 4 }, () => clientEvent('movie.downloaded', { jav_id: HOT, user_id: 1 })),
      ...Array.from({ length: 3 }, (_, i) => clientEvent('movie.liked', { jav_id: HOT, user_id: 1 + i })),
      // User 1 likes it twice (one like), rates it 2 then 4 (the later wins), watchlists it; user 2 rates 5.
      clientEvent('movie.liked', { jav_id: HOT, user_id: 1 }),
      clientEvent('movie.rated', { jav_id: HOT, user_id: 1, rating: 2, occurred_at: Date.now() - 5_000 }),
      clientEvent('movie.rated', { jav_id: HOT, user_id: 1, rating: 4, occurred_at: Date.now() - 4_000 }),
      clientEvent('movie.rated', { jav_id: HOT, user_id: 2, rating: 5 }),
      clientEvent('movie.watchlisted', { jav_id: HOT, user_id: 1 }),
      ...[2, 3, 4].map((jav, i) => clientEvent('movie.viewed', { jav_id: jav, user_id: 5, occurred_at: Date.now() - 60_000 + i * 1_000 })),
      ...['movie', 'actor'].map((entity_type) =>
        clientEvent('search.performed', { query: ZERO_QUERY, filters: {}, entity_type, result_count: 0 }),
      ),
      ...Array.from({ length: 3 }, () => clientEvent('recommendation.clicked', { jav_id: HOT, user_id: 2, reason: 'popular' })),
    ];
    await postEvents(w, events);
    const want = {
      jav_id: HOT,
      views: before.views + 12,
      downloads: before.downloads + 4,
      likes: before.likes + 3,
      rating_count: 2,
      rating_avg: 4.5,
      watchlists: 1,
    };
    await eventually(
      async () => {
        const { body } = await get(`/v1/movies/${HOT}/counts`);
        return JSON.stringify(body) === JSON.stringify(want) ? true : undefined;
      },
      30_000,
      `counts of movie ${HOT} = ${JSON.stringify(want)}`,
    );
  }, 60_000);

  it('counts: a display key lost from Redis is re-seeded as MySQL + pending delta, never below the truth', async () => {
    // The counter has applied +12 views for HOT that the (not running) flusher has not moved to MySQL.
    expect(await w.redis.hget('tally:counter:pending', `views:${HOT}`)).toBe('12');
    await w.redis.del(`jav:views:${HOT}`);
    const { body } = await get(`/v1/movies/${HOT}/counts`);
    expect(body.views).toBe((await mysqlCounts(HOT)).views + 12);
    expect(await w.redis.get(`jav:views:${HOT}`)).toBe(String(body.views));
    // No flush ran or is registered: the seed is exact, nothing is noted for the flusher's re-align.
    expect(await w.redis.sismember('tally:counter:realign', `views:${HOT}`)).toBe(0);
  });

  it('counts: a display key re-seeded while a flush is registered is noted for the flusher to re-align', async () => {
    await w.redis.sadd('tally:counter:flushes', 'qa-flush-in-progress');
    try {
      await w.redis.del(`jav:downloads:${HOT}`);
      const { body } = await get(`/v1/movies/${HOT}/counts`);
      expect(await w.redis.get(`jav:downloads:${HOT}`)).toBe(String(body.downloads));
      expect(await w.redis.smembers('tally:counter:realign')).toEqual([`downloads:${HOT}`]);
    } finally {
      await w.redis.srem('tally:counter:flushes', 'qa-flush-in-progress');
      await w.redis.del('tally:counter:realign');
    }
  });

  it('history: from MySQL as the history service wrote it, newest first, paginated', async () => {
    const page1 = await eventually(
      async () => {
        const r = await get('/v1/users/5/history?limit=2');
        return r.body.items?.length === 2 ? r : undefined;
      },
      30_000,
      'history of user 5',
    );
    expect(page1.status).toBe(200);
    expect(page1.body.items.map((i: { jav_id: number }) => i.jav_id)).toEqual([4, 3]);
    expect(page1.body.items[0]).toMatchObject({ view_count: 1, downloaded: false, code: expect.any(String), title: expect.any(String) });
    expect(page1.body.next_offset).toBe(2);
    const page2 = await get('/v1/users/5/history?limit=2&offset=2');
    expect(page2.body).toMatchObject({ items: [{ jav_id: 2 }], next_offset: null });
    const hot = await eventually(
      async () => {
        const r = await get('/v1/users/1/history');
        const item = r.body.items.find((i: { jav_id: number }) => i.jav_id === HOT);
        return item?.view_count === 4 && item.download_count === 4 ? item : undefined;
      },
      30_000,
      'history of user 1 on the hot movie',
    );
    expect(hot).toMatchObject({ downloaded: true, view_count: 4, download_count: 4 });
  }, 60_000);

  it('featured: rebuilt from MySQL on a miss, cached after, and fresh within 1 s of a featured event through Kafka and the counter', async () => {
    const first = await get('/v1/featured?group=trending');
    expect(first.status).toBe(200);
    expect(first.headers.get('x-tally-cache')).toBe('miss');
    const active = await w.temp
      .db('featured_items')
      .where({ group: 'trending', active: true })
      .andWhere((q) => q.whereNull('expires_at').orWhere('expires_at', '>', new Date()))
      .orderBy('rank')
      .select('item_id');
    expect(first.body.items.map((i: { item_id: number }) => i.item_id)).toEqual(active.map((r) => Number(r.item_id)));
    expect(first.body.items[0].item).toMatchObject({
      id: first.body.items[0].item_id,
      code: expect.any(String),
      title: expect.any(String),
    });
    expect(first.body.items.map((i: { rank: number }) => i.rank)).toEqual(
      [...first.body.items.map((i: { rank: number }) => i.rank)].sort((a, b) => a - b),
    );
    const second = await get('/v1/featured?group=trending');
    expect(second.headers.get('x-tally-cache')).toBe('hit');
    expect(second.body).toEqual(first.body);
    const ttl = await w.redis.pttl('jav:featured:group:trending');
    expect(ttl).toBeGreaterThan(590_000);
    expect(ttl).toBeLessThanOrEqual(600_000);
    await get('/v1/featured'); // the all-groups list is cached too
    expect(await w.redis.exists('jav:featured:all')).toBe(1);

    // Warm-up: the counter's first featured event waits for its fetch loop; the 1 s promise is for a running one.
    await postEvents(w, [
      clientEvent('featured.item.updated', {
        item_type: 'movie',
        item_id: 1,
        group: 'warm-up',
        rank: 1,
        active: true,
        expires_at: null,
        admin_user_id: 1,
      }),
    ]);
    await eventually(async () => ((await w.redis.exists('jav:featured:all')) === 0 ? true : undefined), 30_000, 'warm-up invalidation');
    await get('/v1/featured');
    await get('/v1/featured?group=trending');

    // The web app's admin features movie 29 at the top of "trending": MySQL first, then the event.
    const [newId] = await w.temp
      .db('featured_items')
      .insert({ item_type: 'movie', item_id: 29, group: 'trending', rank: 0, active: true, expires_at: null });
    const t0 = Date.now();
    await postEvents(w, [
      clientEvent('featured.item.created', {
        item_type: 'movie',
        item_id: 29,
        group: 'trending',
        rank: 0,
        active: true,
        expires_at: null,
        admin_user_id: 1,
      }),
    ]);
    const fresh = await eventually(
      async () => {
        const r = await get('/v1/featured?group=trending');
        return r.body.items[0]?.id === newId ? r : undefined;
      },
      5_000,
      'the new featured item',
    );
    expect(Date.now() - t0).toBeLessThan(1_000);
    expect(fresh.body.items[0]).toMatchObject({ item_type: 'movie', item_id: 29, rank: 0, item: { id: 29 } });
    expect((await get('/v1/featured')).body.items.some((i: { id: number }) => i.id === newId)).toBe(true);
  }, 90_000);

  it('recommendations: popularity fallback when the user has no snapshot; 404 for an unknown user', async () => {
    const r = await get('/v1/users/5/recommendations?limit=5');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ user_id: 5, source: expect.stringMatching(/^(snapshot|popularity_fallback)$/) });
    expect(r.headers.get('x-tally-source')).toBe(r.body.source);
    expect(r.body.items.length).toBeGreaterThan(0);
    expect(r.body.items.length).toBeLessThanOrEqual(5);
    expect((await get('/v1/users/987654/recommendations')).body.error.code).toBe('USER_NOT_FOUND');
  });

  it('tag search: prefix match through the Elasticsearch tags alias', async () => {
    const tag = await w.temp.db('tags').orderBy('id').first('id', 'name');
    const q = String(tag.name).slice(0, 3);
    const r = await get(`/v1/search/tags?q=${encodeURIComponent(q)}`);
    expect(r.status).toBe(200);
    expect(r.body.items).toEqual(expect.arrayContaining([expect.objectContaining({ tag_id: Number(tag.id), name: tag.name })]));
    for (const item of r.body.items)
      expect(
        item.name
          .toLowerCase()
          .split(/\s+/)
          .some((word: string) => word.startsWith(q.toLowerCase())) || item.name.toLowerCase().startsWith(q.toLowerCase()),
      ).toBe(true);
  });

  it('analytics (admin): the dashboard and searches show the events of this suite', async () => {
    const dash = await eventually(
      async () => {
        const r = await get('/v1/analytics/dashboard', admin);
        const top = r.body.snapshot?.top_movies?.['24h']?.by_views?.find((m: { jav_id: number }) => m.jav_id === HOT);
        return top?.count === 12 ? r : undefined;
      },
      30_000,
      'hot movie in the 24h top list',
    );
    expect(dash.headers.get('x-tally-source')).toBe(dash.body.source);
    expect(dash.body.snapshot.recommendation_clicks).toEqual(expect.arrayContaining([{ reason: 'popular', clicks: 3 }]));
    const zero = await get('/v1/analytics/searches?window=24h&zero_results=true', admin);
    expect(zero.status).toBe(200);
    expect(zero.body.items).toEqual(
      expect.arrayContaining([expect.objectContaining({ query: ZERO_QUERY, entity_type: 'movie', zero_result_searches: 1 })]),
    );
    const actorsOnly = await get('/v1/analytics/searches?window=24h&zero_results=true&entity_type=actor', admin);
    expect(actorsOnly.body.items.map((s: { entity_type: string }) => s.entity_type)).toEqual(actorsOnly.body.items.map(() => 'actor'));
    expect(actorsOnly.body.items.some((s: { query: string }) => s.query === ZERO_QUERY)).toBe(true);
  }, 60_000);

  it('analytics and recommendations come from the MongoDB snapshots once the snapshot-builder has written them', async () => {
    const mongo = new MongoClient(w.mongoUrl);
    try {
      const store = new SnapshotStore(mongo.db());
      const snapshot = await computeDashboard(w.temp.db, DEMO_CATALOG);
      await store.writeDashboard(snapshot);
      await store.writeRecommendations([{ user_id: 5, items: [{ jav_id: 11, score: 0.9, reason: 'co_viewed:2' }] }], snapshot.generated_at);
      // The reader skips MongoDB for a few seconds after a failure; a healthy one is read at once.
      const dash = await eventually(
        async () => {
          const r = await get('/v1/analytics/dashboard', admin);
          return r.body.source === 'snapshot' ? r : undefined;
        },
        15_000,
        'dashboard from the snapshot',
      );
      expect(dash.body.snapshot.generated_at).toBe(snapshot.generated_at);
      expect(dash.headers.get('x-tally-source')).toBe('snapshot');
      const searches = await get('/v1/analytics/searches?window=24h&zero_results=true', admin);
      expect(searches.body).toMatchObject({ source: 'snapshot', generated_at: snapshot.generated_at });
      const rec = await get('/v1/users/5/recommendations', {});
      expect(rec.body).toMatchObject({
        source: 'snapshot',
        generated_at: snapshot.generated_at,
        items: [{ jav_id: 11, score: 0.9, reason: 'co_viewed:2' }],
      });
    } finally {
      await mongo.close();
    }
  });

  it('pipeline health (admin): lag per configured group reaches 0, job ages listed, dead letters by reason', async () => {
    const h = await eventually(
      async () => {
        const r = await get('/v1/admin/pipeline-health', admin);
        const lags = r.body.consumer_lag as { group: string; lag: number | null }[];
        return lags.length === 3 && lags.every((g) => g.lag === 0) ? r : undefined;
      },
      30_000,
      'every group caught up',
    );
    expect(h.body.consumer_lag.map((g: { group: string }) => g.group)).toEqual([w.groups.logger, w.groups.counter, w.groups.history]);
    expect(h.body.jobs.map((j: { job: string }) => j.job)).toEqual(['flusher', 'es-sync', 'snapshot-builder', 'retention']);
    expect(Array.isArray(h.body.dead_letters)).toBe(true);
  });

  it('bad parameters get 400 naming the parameter; unknown ids 404; admin routes 401 without a valid token', async () => {
    const cases: [string, number, string, Record<string, string>?][] = [
      ['/v1/movies/abc/counts', 400, 'id'],
      ['/v1/movies/0/counts', 400, 'id'],
      ['/v1/featured?group=' + encodeURIComponent('no spaces'), 400, 'group'],
      ['/v1/users/5/history?limit=0', 400, 'limit'],
      ['/v1/users/5/history?offset=-1', 400, 'offset'],
      ['/v1/search/tags', 400, 'q'],
      ['/v1/analytics/searches?window=1y', 400, 'window', admin],
      ['/v1/analytics/searches?zero_results=maybe', 400, 'zero_results', admin],
      ['/v1/analytics/searches?entity_type=studio', 400, 'entity_type', admin],
    ];
    for (const [path, status, parameter, headers] of cases) {
      const r = await get(path, headers);
      expect({ path, status: r.status, code: r.body.error.code, parameter: r.body.error.parameter }).toEqual({
        path,
        status,
        code: 'INVALID_PARAMETER',
        parameter,
      });
      expect(r.body.error.message).toMatch(new RegExp(`^${parameter}: `));
    }
    expect((await get('/v1/movies/999999/counts')).body.error).toMatchObject({ code: 'MOVIE_NOT_FOUND' });
    expect((await get('/v1/movies/999999/counts')).status).toBe(404);
    expect((await get('/v1/users/999999/history')).status).toBe(404);
    for (const path of ['/v1/analytics/dashboard', '/v1/analytics/searches', '/v1/admin/pipeline-health', '/v1/admin/session']) {
      expect({ path, status: (await get(path)).status }).toEqual({ path, status: 401 });
      const wrong = await get(path, { authorization: 'Bearer not-the-token-at-all' });
      expect({ path, status: wrong.status, code: wrong.body.error.code }).toEqual({ path, status: 401, code: 'AUTH_UNKNOWN_TOKEN' });
    }
  });

  it('MongoDB unreachable: the dashboard still answers, computed from MySQL and marked as fallback; public routes are rate limited', async () => {
    const down = startQueryApi(w, testPort(18400) + 1, {
      MONGO_URL: 'mongodb://127.0.0.1:1/tally',
      RATE_LIMIT_MAX: '15',
      RATE_LIMIT_WINDOW: '1m',
    });
    await down.ready;
    const r = await get('/v1/analytics/dashboard', admin, down.url);
    expect(r.status).toBe(200);
    expect(r.body.source).toBe('mysql_fallback');
    expect(r.headers.get('x-tally-source')).toBe('mysql_fallback');
    expect(r.body.snapshot.top_movies['24h'].by_views).toEqual(
      expect.arrayContaining([expect.objectContaining({ jav_id: HOT, count: 12 })]),
    );
    const s = await get('/v1/analytics/searches?window=24h&zero_results=true', admin, down.url);
    expect(s.body.source).toBe('mysql_fallback');
    const rec = await get('/v1/users/5/recommendations', {}, down.url);
    expect(rec.body.source).toBe('popularity_fallback');

    // 15 per minute on this instance: a burst on the counts route runs into 429s, and stays there.
    const statuses: number[] = [];
    for (let i = 0; i < 18; i++) statuses.push((await fetch(`${down.url}/v1/movies/${HOT}/counts`)).status);
    const firstLimited = statuses.indexOf(429);
    expect(firstLimited).toBeGreaterThan(0);
    expect(statuses.slice(0, firstLimited).every((s) => s === 200)).toBe(true);
    expect(statuses.slice(firstLimited).every((s) => s === 429)).toBe(true);
    const limited = await get(`/v1/movies/${HOT}/counts`, {}, down.url);
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe('RATE_LIMITED');
    expect(limited.headers.get('retry-after')).toMatch(/^\d+$/);
    down.proc.signal('SIGTERM');
    expect((await down.proc.waitExit()).code).toBe(0);
  }, 60_000);

  it('serves OpenAPI at /docs', async () => {
    const doc = await get('/docs/json');
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining([
        '/v1/movies/{id}/counts',
        '/v1/featured',
        '/v1/users/{id}/history',
        '/v1/users/{id}/recommendations',
        '/v1/analytics/dashboard',
        '/v1/analytics/searches',
        '/v1/search/tags',
      ]),
    );
  });
});

describe('admin UI in headless Chromium', () => {
  let browser: Browser | undefined;
  afterAll(async () => {
    await browser?.close();
  });

  it("refuses a wrong token, logs in, shows this suite's numbers, switches the window and re-renders the chart", async () => {
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
    const page = await browser.newPage({ viewport: { width: 1280, height: 1400 } });
    const failed: string[] = [];
    page.on('requestfailed', (r) => failed.push(r.url()));
    page.on('pageerror', (e) => failed.push(`page error: ${e.message}`));
    // Offline on purpose: everything the page needs (chart.js included) must come from query-api.
    await page.route('**/*', (route) => (route.request().url().startsWith(w.queryUrl) ? route.continue() : route.abort()));
    await page.goto(`${w.queryUrl}/admin`);
    await page.waitForSelector('#login-form');
    expect(await page.isVisible('#dashboard')).toBe(false);

    await page.fill('#token', 'wrong-token-123456');
    await page.click('#login-form button[type=submit]');
    await page.waitForSelector('#login-error:has-text("Unknown admin token")');
    expect(await page.isVisible('#dashboard')).toBe(false);

    await page.fill('#token', ADMIN_TOKEN);
    await page.click('#login-form button[type=submit]');
    const hotCode = String((await w.temp.db('jav').where({ id: HOT }).first('code')).code);
    const row = page.locator('#top-table tbody tr', { hasText: hotCode });
    await row.waitFor();
    expect(await row.locator('td').last().textContent()).toBe('12');
    await page.locator('#zero-searches tbody tr', { hasText: ZERO_QUERY }).first().waitFor();
    await page.locator('#clicks-table tbody tr', { hasText: 'popular' }).waitFor();
    await page.locator('#lag-table tbody tr', { hasText: w.groups.counter }).waitFor();
    const chartData = () =>
      page.evaluate(() => {
        const c = (
          globalThis as unknown as { Chart: { getChart(el: unknown): { data: { labels: string[]; datasets: { data: number[] }[] } } } }
        ).Chart.getChart(
          (globalThis as unknown as { document: { getElementById(id: string): unknown } }).document.getElementById('top-chart'),
        );
        return { labels: c.data.labels, values: c.data.datasets[0]!.data };
      });
    const before = await chartData();
    expect(before.labels).toContain(hotCode);
    expect(before.values[before.labels.indexOf(hotCode)]).toBe(12);

    await page.click('#top-window button[data-window="all"]');
    await page.waitForSelector('#top-chart[data-window="all"]');
    const dash = (await get('/v1/analytics/dashboard', admin)).body;
    const all = dash.snapshot.top_movies.all.by_views as { code: string; count: number }[];
    const after = await chartData();
    expect(after).toEqual({ labels: all.map((m) => m.code), values: all.map((m) => m.count) });
    expect(after).not.toEqual(before);
    expect(await page.locator('#top-window button.active').textContent()).toBe('All time');

    const dir = resolve(__dirname, '../artifacts');
    mkdirSync(dir, { recursive: true });
    await page.screenshot({ path: resolve(dir, 'query-api-admin.png'), fullPage: true });
    expect(failed).toEqual([]);

    await page.click('#logout');
    expect(await page.isVisible('#login')).toBe(true);
    expect(await page.evaluate(() => (globalThis as unknown as { sessionStorage: { length: number } }).sessionStorage.length)).toBe(0);
  }, 90_000);
});
