import fc from 'fast-check';
import { createLogger, ServiceMetrics } from '@tally/runtime';
import { allows, documentProblems, instancesOf, violationsOf, type OpenApiSchema, type Violation } from '@tally/openapi-cases';
import type { Analytics } from './analytics';
import { buildApp } from './app';
import { loadQueryConfig } from './config';

// Property: the served OpenAPI document tells the whole truth about parameters. Requests whose path
// and query parameters it allows are never refused as invalid (no 400); one parameter breaking one
// documented constraint is refused with 400 INVALID_PARAMETER naming it.
const TOKEN = 'unit-admin-token-42';
const RUNS = 300;

type Operation = { parameters?: { in: string; name: string; required?: boolean; schema: OpenApiSchema }[]; security?: unknown[] };
let app: Awaited<ReturnType<typeof buildApp>>;
let routes: { path: string; op: Operation }[];
let doc: { paths: Record<string, Record<string, Operation>> };

beforeAll(async () => {
  app = await buildApp({
    config: loadQueryConfig({ ADMIN_TOKENS: TOKEN, RATE_LIMIT_MAX: '1000000' }),
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
    tags: { search: async () => [] },
    health: { consumerLag: async () => [], jobAges: async () => [] },
    analytics: {
      searches: async () => ({ source: 'snapshot', generated_at: '2026-11-26T00:00:00.000Z', items: [] }),
      recommendations: async () => ({ source: 'snapshot', generated_at: null, items: [] }),
      dashboard: async () => ({ source: 'snapshot', snapshot: { generated_at: '2026-11-26T00:00:00.000Z', dead_letters: [] } }),
    } as unknown as Analytics,
  });
  doc = (await app.inject({ url: '/docs/json' })).json() as { paths: Record<string, Record<string, Operation>> };
  routes = Object.entries(doc.paths).flatMap(([path, ops]) => (ops.get ? [{ path, op: ops.get }] : []));
});

/** The parameters of an operation as one object schema, so one generator and one violation list serve both. */
function asObject(op: Operation): OpenApiSchema {
  const ps = op.parameters ?? [];
  return {
    type: 'object',
    properties: Object.fromEntries(ps.map((p) => [p.name, p.schema])),
    required: ps.filter((p) => p.required).map((p) => p.name),
  };
}

/** How a client serializes a parameter value into the URL (OpenAPI's simple/form styles of a primitive). */
const serialize = (v: unknown) => (v === null ? 'null' : String(v));

/** The value the document means by the string a URL carries: an integer parameter's digits are a number, and so on. */
function typed(schema: OpenApiSchema, raw: string): unknown {
  if (schema.type === 'integer') return /^-?[0-9]+$/.test(raw) ? Number(raw) : raw;
  if (schema.type === 'boolean') return raw === 'true' ? true : raw === 'false' ? false : raw;
  return raw;
}

function request(path: string, values: Record<string, unknown>) {
  const { op } = routes.find((r) => r.path === path)!;
  let url = path;
  const query = new URLSearchParams();
  for (const p of op.parameters ?? []) {
    if (values[p.name] === undefined) continue;
    if (p.in === 'path') url = url.replace(`{${p.name}}`, encodeURIComponent(serialize(values[p.name])));
    else query.set(p.name, serialize(values[p.name]));
  }
  const qs = query.toString();
  return app.inject({ url: qs ? `${url}?${qs}` : url, headers: op.security ? { authorization: `Bearer ${TOKEN}` } : {} });
}

it('serves a valid OpenAPI 3.0 document', async () => {
  expect(await documentProblems(doc)).toEqual([]);
});

it('serves a document whose every GET route has its parameters typed, bounded and required as decoded', () => {
  expect(routes.map((r) => r.path)).toEqual(
    expect.arrayContaining(['/v1/movies/{id}/counts', '/v1/users/{id}/history', '/v1/search/tags', '/v1/analytics/searches']),
  );
  const history = routes.find((r) => r.path === '/v1/users/{id}/history')!.op.parameters!;
  expect(history.find((p) => p.name === 'offset')!.schema).toMatchObject({ type: 'integer', minimum: 0, maximum: 1_000_000, default: 0 });
});

it('never refuses as invalid a request whose parameters the document allows', async () => {
  const cases = fc.oneof(
    ...routes
      .filter((r) => r.op.parameters?.length)
      .map((r) => instancesOf<Record<string, unknown>>(asObject(r.op)).map((values) => ({ path: r.path, values }))),
  );
  await fc.assert(
    fc.asyncProperty(cases, async ({ path, values }) => {
      const res = await request(path, values);
      expect({ path, values, status: res.statusCode, body: res.statusCode === 200 ? '' : res.body }).toEqual({
        path,
        values,
        status: 200,
        body: '',
      });
    }),
    { numRuns: RUNS },
  );
});

it('refuses a request with one parameter breaking one documented constraint, naming the parameter', async () => {
  const cases = fc.oneof(
    ...routes
      .filter((r) => r.op.parameters?.length)
      .map((r) => {
        const schema = asObject(r.op);
        const props = schema.properties as Record<string, OpenApiSchema>;
        const inPath = new Set((r.op.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name));
        // Only violations a URL can carry: in a URL every value is text, so "a string where an integer goes" must not read as one.
        const forbidden = (v: Violation, values: Record<string, unknown>) => {
          const after = v.apply(values);
          if (!(v.field in after)) return !inPath.has(v.field);
          const raw = serialize(after[v.field]);
          return !(inPath.has(v.field) && raw === '') && !allows(props[v.field]!, typed(props[v.field]!, raw));
        };
        const violations = violationsOf(schema).filter((v) => v.keyword !== 'additionalProperties');
        return fc
          .tuple(instancesOf<Record<string, unknown>>(schema), fc.constantFrom(...violations))
          .filter(([values, v]) => forbidden(v, values))
          .map(([values, v]) => ({ path: r.path, values: v.apply(values), violation: v }));
      }),
  );
  await fc.assert(
    fc.asyncProperty(cases, async ({ path, values, violation }) => {
      const res = await request(path, values);
      const got = { path, values, keyword: violation.keyword, status: res.statusCode, parameter: res.json().error?.parameter };
      expect(got).toEqual({ ...got, status: 400, parameter: violation.field });
    }),
    { numRuns: RUNS },
  );
});

describe('methods not served', () => {
  it.each([
    ['DELETE', '/v1/movies/7/counts', 'GET, HEAD'],
    ['POST', '/v1/analytics/searches', 'GET, HEAD'],
    ['PUT', '/admin/', 'GET, HEAD'],
  ])('%s %s answers 405 with Allow: %s', async (method, url, allow) => {
    const res = await app.inject({ method: method as 'GET', url });
    expect([res.statusCode, res.headers.allow, res.json().error.code]).toEqual([405, allow, 'METHOD_NOT_ALLOWED']);
  });

  it('answers 404 for an unknown path', async () => {
    expect((await app.inject({ method: 'DELETE', url: '/v1/nothing' })).json()).toEqual({
      error: { code: 'ROUTE_NOT_FOUND', message: 'no route DELETE /v1/nothing' },
    });
  });
});
