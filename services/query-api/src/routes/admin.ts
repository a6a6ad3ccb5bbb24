import type { FastifyInstance } from 'fastify';
import { errorMessage } from '@tally/runtime';
import type { Analytics } from '../analytics';
import type { AdminTokens } from '../auth';
import { schemas } from '../openapi';
import { booleanFlag, intInRange, oneOf, optionalOneOf, paramsOf, parse } from '../params';
import type { PipelineHealth } from '../pipeline-health';

export interface AdminDeps {
  tokens: AdminTokens;
  analytics: Analytics;
  health: Pick<PipelineHealth, 'consumerLag' | 'jobAges'>;
}

const searchesQuery = paramsOf({
  window: oneOf(['24h', '7d', '30d'] as const, '7d'),
  zero_results: booleanFlag(false),
  entity_type: optionalOneOf(['movie', 'actor', 'tag'] as const),
  limit: intInRange(1, 100, 20),
});

/** Analyst routes: every one needs an admin token (checked before anything is read). */
export async function adminRoutes(app: FastifyInstance, d: AdminDeps): Promise<void> {
  const guarded = {
    config: { rateLimit: {} }, // also slows down token guessing
    // preParsing, not onRequest: @fastify/rate-limit appends its onRequest hook after the route's own,
    // so a token check there would refuse guesses before the limiter counted them (unlimited guessing).
    preParsing: async (req: { headers: { authorization?: string | string[] } }, _reply: unknown, payload: unknown) => {
      d.tokens.check(req.headers.authorization);
      return payload;
    },
  };

  app.get('/v1/admin/session', { schema: schemas.session, ...guarded }, async () => ({ ok: true }));

  app.get('/v1/analytics/dashboard', { schema: schemas.dashboard, ...guarded }, async (_req, reply) => {
    const r = await d.analytics.dashboard();
    reply.header('x-tally-source', r.source);
    return { source: r.source, snapshot: r.snapshot };
  });

  app.get(
    '/v1/analytics/searches',
    { schema: { ...schemas.searches, querystring: searchesQuery.schema }, ...guarded },
    async (req, reply) => {
      const q = parse(searchesQuery.decode, req.query);
      const r = await d.analytics.searches({
        window: q.window,
        zeroResults: q.zero_results,
        limit: q.limit,
        ...(q.entity_type ? { entityType: q.entity_type } : {}),
      });
      reply.header('x-tally-source', r.source);
      return { source: r.source, generated_at: r.generated_at, window: q.window, zero_results: q.zero_results, items: r.items };
    },
  );

  app.get('/v1/admin/pipeline-health', { schema: schemas.health, ...guarded }, async () => {
    // Each part answers on its own: a Kafka or MySQL outage is exactly when the panel must still load.
    const [lag, jobs, dashboard] = await Promise.allSettled([d.health.consumerLag(), d.health.jobAges(), d.analytics.dashboard()]);
    return {
      consumer_lag: lag.status === 'fulfilled' ? lag.value : { error: errorMessage(lag.reason) },
      jobs: jobs.status === 'fulfilled' ? jobs.value : { error: errorMessage(jobs.reason) },
      dead_letters: dashboard.status === 'fulfilled' ? dashboard.value.snapshot.dead_letters : { error: errorMessage(dashboard.reason) },
      dead_letters_source: dashboard.status === 'fulfilled' ? dashboard.value.source : null,
      dead_letters_as_of: dashboard.status === 'fulfilled' ? dashboard.value.snapshot.generated_at : null,
    };
  });
}
