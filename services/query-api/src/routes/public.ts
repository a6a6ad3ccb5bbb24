import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Analytics } from '../analytics';
import type { CountsStore } from '../counts';
import type { FeaturedStore } from '../featured';
import type { HistoryStore } from '../history';
import { schemas } from '../openapi';
import { id, intInRange, parse } from '../params';
import type { TagSearch } from '../tag-search';

/** The slice of each store the routes use, so tests can pass small fakes. */
export interface PublicDeps {
  counts: Pick<CountsStore, 'get'>;
  featured: Pick<FeaturedStore, 'list'>;
  history: Pick<HistoryStore, 'assertUser' | 'page'>;
  analytics: Analytics;
  tags: Pick<TagSearch, 'search'>;
}

const movieParams = z.object({ id: id('movie') });
const userParams = z.object({ id: id('user') });
const featuredQuery = z.object({ group: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be 1 to 64 letters, digits, ".", "_" or "-"').optional() });
const historyQuery = z.object({ limit: intInRange(1, 100, 20), offset: intInRange(0, 1_000_000, 0) });
const recommendationsQuery = z.object({ limit: intInRange(1, 100, 20) });
const tagQuery = z.object({
  q: z.string({ required_error: 'is required' }).trim().min(1, 'must not be empty').max(100, 'must be at most 100 characters'),
  limit: intInRange(1, 50, 10),
});

/** Routes the web app calls; rate limited per client ip, no token. */
export async function publicRoutes(app: FastifyInstance, d: PublicDeps): Promise<void> {
  const limited = { rateLimit: {} };

  app.get('/v1/movies/:id/counts', { schema: schemas.counts, config: limited }, async (req) => {
    const { id: javId } = parse(movieParams, req.params);
    return d.counts.get(javId);
  });

  app.get('/v1/featured', { schema: schemas.featured, config: limited }, async (req, reply) => {
    const { group } = parse(featuredQuery, req.query);
    const { items, cached } = await d.featured.list(group);
    reply.header('x-tally-cache', cached ? 'hit' : 'miss');
    return { group: group ?? null, items };
  });

  app.get('/v1/users/:id/history', { schema: schemas.history, config: limited }, async (req) => {
    const { id: userId } = parse(userParams, req.params);
    const { limit, offset } = parse(historyQuery, req.query);
    return d.history.page(userId, limit, offset);
  });

  app.get('/v1/users/:id/recommendations', { schema: schemas.recommendations, config: limited }, async (req, reply) => {
    const { id: userId } = parse(userParams, req.params);
    const { limit } = parse(recommendationsQuery, req.query);
    await d.history.assertUser(userId);
    const r = await d.analytics.recommendations(userId, limit);
    reply.header('x-tally-source', r.source);
    return { user_id: userId, source: r.source, generated_at: r.generated_at, items: r.items };
  });

  app.get('/v1/search/tags', { schema: schemas.tags, config: limited }, async (req) => {
    const { q, limit } = parse(tagQuery, req.query);
    return { q, items: await d.tags.search(q, limit) };
  });
}
