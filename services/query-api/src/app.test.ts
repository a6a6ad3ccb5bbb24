import { createLogger, DependencyError, ServiceMetrics } from '@tally/runtime';
import { buildApp, type QueryDeps } from './app';
import { loadQueryConfig } from './config';
import type { Analytics } from './analytics';

// The HTTP edge with fake stores: parameter decoding, auth and error shapes, without the stack.
const TOKEN = 'unit-admin-token-42';
const calls: unknown[] = [];

async function testApp(over: Partial<QueryDeps> = {}) {
  return buildApp({
    config: loadQueryConfig({ ADMIN_TOKENS: `other-token-123456,${TOKEN}` }),
    logger: createLogger({ service: 'query-test', level: 'silent' }),
    metrics: new ServiceMetrics('query_test', { defaultMetrics: false }),
    readiness: [],
    counts: {
      get: async (id: number) => ({ jav_id: id, views: 1, downloads: 2, likes: 3, rating_count: 0, rating_avg: null, watchlists: 0 }),
    },
    featured: { list: async () => ({ items: [], cached: true }) },
    history: {
      assertUser: async () => undefined,
      page: async (user_id: number, limit: number, offset: number) => ({ user_id, items: [], limit, offset, next_offset: null }),
    },
    tags: {
      search: async () => {
        throw new DependencyError('elasticsearch', 'connect ECONNREFUSED');
      },
    },
    health: { consumerLag: async () => [], jobAges: async () => [] },
    analytics: {
      searches: async (q) => {
        calls.push(q);
        return { source: 'snapshot', generated_at: '2026-11-26T00:00:00.000Z', items: [] };
      },
    } as Partial<Analytics> as Analytics,
    ...over,
  });
}

describe('query-api HTTP edge', () => {
  it('decodes query parameters with defaults and passes them on', async () => {
    const app = await testApp();
    const auth = { authorization: `Bearer ${TOKEN}` };
    expect((await app.inject({ url: '/v1/analytics/searches', headers: auth })).statusCode).toBe(200);
    expect(
      (await app.inject({ url: '/v1/analytics/searches?window=30d&zero_results=true&entity_type=tag&limit=5', headers: auth })).statusCode,
    ).toBe(200);
    expect(calls).toEqual([
      { window: '7d', zeroResults: false, limit: 20 },
      { window: '30d', zeroResults: true, entityType: 'tag', limit: 5 },
    ]);
    expect((await app.inject({ url: '/v1/users/3/history?limit=100&offset=40' })).json()).toMatchObject({ limit: 100, offset: 40 });
  });

  it.each([
    ['/v1/movies/12abc/counts', 'id', 'id: must be a whole number from 1 to 9007199254740991 (movie id)'],
    ['/v1/movies/99999999999999999999/counts', 'id', 'id: must be a whole number from 1 to 9007199254740991 (movie id)'],
    ['/v1/users/1/history?limit=101', 'limit', 'limit: must be a whole number from 1 to 100'],
    ['/v1/users/1/recommendations?limit=x', 'limit', 'limit: must be a whole number from 1 to 100'],
    ['/v1/search/tags?q=%20', 'q', 'q: must not be empty'],
    ['/v1/featured?group=a%3Cb', 'group', 'group: must be 1 to 64 letters, digits, ".", "_" or "-"'],
  ])('%s → 400 naming %s', async (url, parameter, message) => {
    const res = await (await testApp()).inject({ url });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: { code: 'INVALID_PARAMETER', parameter, message } });
  });

  it('names the allowed values of an enum parameter', async () => {
    const res = await (await testApp()).inject({ url: '/v1/analytics/searches?window=1y', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.json().error).toEqual({
      code: 'INVALID_PARAMETER',
      parameter: 'window',
      message: "window: must be one of 24h, 7d, 30d (got '1y')",
    });
  });

  it('checks the admin token before reading anything, with any configured token accepted', async () => {
    const app = await testApp();
    calls.length = 0;
    expect((await app.inject({ url: '/v1/analytics/searches?window=1y' })).json().error.code).toBe('AUTH_MISSING_TOKEN');
    expect((await app.inject({ url: '/v1/analytics/searches', headers: { authorization: 'Basic abc' } })).statusCode).toBe(401);
    expect((await app.inject({ url: '/v1/analytics/searches', headers: { authorization: `Bearer ${TOKEN}x` } })).json().error.code).toBe(
      'AUTH_UNKNOWN_TOKEN',
    );
    expect(calls).toEqual([]);
    expect((await app.inject({ url: '/v1/admin/session', headers: { authorization: 'bearer other-token-123456' } })).statusCode).toBe(200);
  });

  it('counts refused admin tokens against the rate limit, so guessing tokens is slowed down', async () => {
    const app = await testApp({ config: loadQueryConfig({ ADMIN_TOKENS: TOKEN, RATE_LIMIT_MAX: '3' }) });
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++)
      statuses.push(
        (await app.inject({ url: '/v1/admin/session', headers: { authorization: `Bearer guess-${i}-0123456789` } })).statusCode,
      );
    expect(statuses).toEqual([401, 401, 401, 429, 429]);
  });

  it('answers 503 with Retry-After when a store is down', async () => {
    const res = await (await testApp()).inject({ url: '/v1/search/tags?q=dra' });
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('5');
    expect(res.json().error.code).toBe('ELASTICSEARCH_UNAVAILABLE');
  });

  it('serves the admin page and chart.js from the package, with a same-origin-only CSP', async () => {
    const app = await testApp();
    const page = await app.inject({ url: '/admin/' });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('<script src="/admin/vendor/chart.umd.min.js" defer></script>');
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    const chart = await app.inject({ url: '/admin/vendor/chart.umd.min.js' });
    expect(chart.statusCode).toBe(200);
    expect(chart.body).toContain('Chart');
    expect((await app.inject({ url: '/admin' })).headers.location).toBe('/admin/');
  });

  it('refuses the development admin token in production', () => {
    expect(() => loadQueryConfig({ NODE_ENV: 'production' })).toThrow(/ADMIN_TOKENS: must be set in production/);
    expect(() => loadQueryConfig({ ADMIN_TOKENS: 'short' })).toThrow(/ADMIN_TOKENS: each token must be at least 12 characters/);
  });
});

describe('POST /v1/admin/forget', () => {
  const calls: unknown[] = [];
  const forget: QueryDeps['forget'] = async (subject, requestedBy) => {
    calls.push({ subject, requestedBy });
    return { subject: subject.kind, auditId: 7, removed: { 'mysql.view_events': 2 }, alreadyForgotten: false };
  };
  const post = async (body: unknown, headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` }) => {
    const app = await testApp({ forget });
    return app.inject({
      method: 'POST',
      url: '/v1/admin/forget',
      headers: { 'content-type': 'application/json', ...headers },
      payload: JSON.stringify(body),
    });
  };

  it("forgets the one subject given, behind the admin token, naming who asked by the token's public id", async () => {
    calls.length = 0;
    const res = await post({ user_id: 42 });
    expect([res.statusCode, res.json()]).toEqual([
      200,
      { subject: 'user', audit_id: 7, already_forgotten: false, removed: { 'mysql.view_events': 2 } },
    ]);
    expect(calls).toEqual([{ subject: { kind: 'user', userId: 42 }, requestedBy: expect.stringMatching(/^admin-api:[0-9a-f]{12}$/) }]);
    expect((await post({ ip: '203.0.113.7' })).statusCode).toBe(200);
    expect((await post({ user_id: 42 }, {})).statusCode).toBe(401);
  });

  it.each([
    [{}, 'give exactly one of a user id or an ip address'],
    [{ user_id: 1, ip: '203.0.113.7' }, 'give exactly one of a user id or an ip address'],
    [{ user_id: '42' }, 'user_id must be a positive integer (users.id)'],
    [{ user_id: 0 }, 'user must be a positive integer (users.id)'],
    [{ ip: 'nowhere' }, 'ip must be an IPv4 or IPv6 address'],
    [{ user_id: 1, name: 'x' }, 'name is not a field of this request (send user_id or ip)'],
  ])('refuses %j with a 400 naming the field', async (body, message) => {
    const res = await post(body);
    expect([res.statusCode, res.json().error.message]).toEqual([400, message]);
  });

  it('is in the served OpenAPI document', async () => {
    const app = await testApp({ forget });
    const res = await app.inject({ method: 'GET', url: '/docs/json' });
    expect(res.statusCode).toBe(200);
    expect(res.json().paths['/v1/admin/forget'].post.requestBody.content['application/json'].schema.properties).toHaveProperty('user_id');
  });
});
