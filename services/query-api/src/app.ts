import { fastifyTrustProxy } from '@tally/config';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import Fastify, { LogController, type FastifyError, type FastifyInstance } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { CatalogPart } from '@tally/catalog';
import { TallyError, answerUnservedMethods, healthRoutes, type Logger, type ServiceMetrics } from '@tally/runtime';
import { AdminTokens } from './auth';
import type { QueryConfig } from './config';
import { InvalidParameter } from './params';
import { openApiInfo } from './openapi';
import { adminRoutes, type AdminDeps } from './routes/admin';
import { privacyRoutes, type PrivacyDeps } from './routes/privacy';
import { publicRoutes, type PublicDeps } from './routes/public';

/**
 * The app tables query-api reads (checked at start): featured items and the movies, actors and tags
 * they name, display counts and the popularity fallback (movies), history and the users it belongs
 * to, the dashboard fallback's names (actors, tags).
 */
export const CATALOG_PARTS: readonly CatalogPart[] = ['movies', 'actors', 'tags', 'users', 'featured', 'history'];

export interface QueryDeps extends PublicDeps, Omit<AdminDeps, 'tokens'> {
  config: Readonly<QueryConfig>;
  logger: Logger;
  metrics: ServiceMetrics;
  /** Throws while a dependency is unusable; shown per check on /readyz. */
  readiness: { name: string; check: () => Promise<unknown> | unknown }[];
  /** POST /v1/admin/forget; absent, the route is not served. */
  forget?: PrivacyDeps['forget'];
}

/** The admin page (HTML, JS, CSS) ships in the package, next to dist/. */
const PUBLIC_DIR = resolve(__dirname, '../public');
// chart.js' UMD build from node_modules, served by us: the admin page works without internet.
const CHART_JS = join(dirname(require.resolve('chart.js')), 'chart.umd.min.js');
// The admin page loads only its own files; data shown through textContent, never as HTML.
const ADMIN_CSP =
  "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/** The HTTP edge; every store is passed in, so tests run it against the real stack or fakes. */
export async function buildApp(d: QueryDeps): Promise<FastifyInstance> {
  const { config } = d;
  const app = Fastify({
    loggerInstance: d.logger,
    // No per-request log lines: at the 2,000 req/s the counts route is built for they would cost more than the request.
    logController: new LogController({ disableRequestLogging: true }),
    trustProxy: fastifyTrustProxy(config.TRUSTED_PROXIES),
    return503OnClosing: true,
  }) as unknown as FastifyInstance;
  // First, so its onRoute hook sees every route: DELETE on a served path answers 405 with Allow, an unknown path 404.
  answerUnservedMethods(app);
  // Parameters are decoded by zod in each route (params.ts); the route schemas are documentation.
  app.setValidatorCompiler(() => () => true);
  const requests = d.metrics.counter('http_requests_total', 'Requests by route and status', ['route', 'status']);
  // Callback-style hooks: an async hook costs a promise per request on the 2,000 req/s counts route.
  app.addHook('onResponse', (req, reply, done) => {
    requests.inc({ route: req.routeOptions.url ?? 'unknown', status: String(reply.statusCode) });
    done();
  });

  app.setErrorHandler((err: FastifyError | TallyError, req, reply) => {
    const status = err instanceof TallyError ? err.httpStatus : (err.statusCode ?? 500);
    const code = err instanceof TallyError ? err.code : (err.code ?? 'ERROR');
    if (status >= 500 && !(err instanceof TallyError && err.retriable)) req.log.error({ err }, 'unexpected error');
    if (status === 503) reply.header('retry-after', String(config.RETRY_AFTER_SECONDS));
    const message = status >= 500 && !(err instanceof TallyError) ? 'internal error' : err.message;
    return reply.code(status).send({ error: { code, message, ...(err instanceof InvalidParameter ? { parameter: err.parameter } : {}) } });
  });

  await app.register(rateLimit, {
    global: false,
    max: config.RATE_LIMIT_MAX,
    timeWindow: config.RATE_LIMIT_WINDOW,
    errorResponseBuilder: (_req, ctx) =>
      new TallyError(
        'RATE_LIMITED',
        `rate limit of ${ctx.max} requests per ${ctx.after} exceeded for this ip; retry after ${Math.ceil(ctx.ttl / 1000)} s`,
        { httpStatus: 429 },
      ),
  });
  await app.register(swagger, { openapi: openApiInfo });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  await publicRoutes(app, d);
  const tokens = new AdminTokens(config.ADMIN_TOKENS);
  await adminRoutes(app, { ...d, tokens });
  if (d.forget) await privacyRoutes(app, { tokens, forget: d.forget });
  await adminPage(app);

  healthRoutes(app, { checks: d.readiness, metrics: d.metrics });
  return app;
}

/** /admin: one static page; it holds no data, every figure comes from the token-guarded API. */
async function adminPage(app: FastifyInstance): Promise<void> {
  const chartJs = readFileSync(CHART_JS);
  // Headers set per admin route, not in a global hook that every API request would pay for.
  const secure = { 'content-security-policy': ADMIN_CSP, 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer' };
  app.get('/admin', { schema: { hide: true } }, async (_req, reply) => reply.headers(secure).redirect('/admin/'));
  app.get('/admin/vendor/chart.umd.min.js', { schema: { hide: true } }, async (_req, reply) =>
    reply.headers(secure).type('application/javascript; charset=utf-8').header('cache-control', 'public, max-age=86400').send(chartJs),
  );
  await app.register(fastifyStatic, {
    root: PUBLIC_DIR,
    prefix: '/admin/',
    index: ['index.html'],
    schemaHide: true,
    setHeaders: (res) => {
      for (const [k, v] of Object.entries(secure)) res.setHeader(k, v);
    },
  });
}
