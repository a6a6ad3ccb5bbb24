import type { FastifyInstance } from 'fastify';
import type { Analytics } from '../analytics';
import type { CountsStore } from '../counts';
import type { FeaturedStore } from '../featured';
import type { HistoryStore } from '../history';
import { schemas } from '../openapi';
import { id, intInRange, matching, paramsOf, parse, searchText } from '../params';
import type { TagSearch } from '../tag-search';

const GROUP_PATTERN = '^[A-Za-z0-9_.-]{1,64}$';

/** The slice of each store the routes use, so tests can pass small fakes. */
export interface PublicDeps {
  counts: Pick<CountsStore, 'get'>;
  featured: Pick<FeaturedStore, 'list'>;
  history: Pick<HistoryStore, 'assertUser' | 'page'>;
  analytics: Analytics;
  tags: Pick<TagSearch, 'search'>;
}

const movieParams = paramsOf({ id: id('movie') }, ['id']);
const userParams = paramsOf({ id: id('user') }, ['id']);
const featuredQuery = paramsOf({
  group: matching(GROUP_PATTERN, 'must be 1 to 64 letters, digits, ".", "_" or "-"', 'Only this group; all groups when absent'),
});
const historyQuery = paramsOf({ limit: intInRange(1, 100, 20), offset: intInRange(0, 1_000_000, 0) });
const recommendationsQuery = paramsOf({ limit: intInRange(1, 100, 20) });
const tagQuery = paramsOf({ q: searchText(100), limit: intInRange(1, 50, 10) }, ['q']);

/** Routes the web app calls; rate limited per client ip, no token. */
export async function publicRoutes(app: FastifyInstance, d: PublicDeps): Promise<void> {
  const limited = { rateLimit: {} };

  app.get('/v1/movies/:id/counts', { schema: { ...schemas.counts, params: movieParams.schema }, config: limited }, async (req) => {
    const { id: javId } = parse(movieParams.decode, req.params);
    return d.counts.get(javId);
  });

  app.get('/v1/featured', { schema: { ...schemas.featured, querystring: featuredQuery.schema }, config: limited }, async (req, reply) => {
    const { group } = parse(featuredQuery.decode, req.query);
    const { items, cached } = await d.featured.list(group);
    reply.header('x-tally-cache', cached ? 'hit' : 'miss');
    return { group: group ?? null, items };
  });

  app.get(
    '/v1/users/:id/history',
    { schema: { ...schemas.history, params: userParams.schema, querystring: historyQuery.schema }, config: limited },
    async (req) => {
      const { id: userId } = parse(userParams.decode, req.params);
      const { limit, offset } = parse(historyQuery.decode, req.query);
      return d.history.page(userId, limit, offset);
    },
  );

  app.get(
    '/v1/users/:id/recommendations',
    { schema: { ...schemas.recommendations, params: userParams.schema, querystring: recommendationsQuery.schema }, config: limited },
    async (req, reply) => {
      const { id: userId } = parse(userParams.decode, req.params);
      const { limit } = parse(recommendationsQuery.decode, req.query);
      await d.history.assertUser(userId);
      const r = await d.analytics.recommendations(userId, limit);
      reply.header('x-tally-source', r.source);
      return { user_id: userId, source: r.source, generated_at: r.generated_at, items: r.items };
    },
  );

  app.get('/v1/search/tags', { schema: { ...schemas.tags, querystring: tagQuery.schema }, config: limited }, async (req) => {
    const { q, limit } = parse(tagQuery.decode, req.query);
    return { q, items: await d.tags.search(q, limit) };
  });
}
