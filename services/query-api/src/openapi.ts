// OpenAPI descriptions of the routes (served at /docs). Parameters are not here: each route's path and
// query schemas come from the same table as its decoders (params.ts), so the document cannot drift.

import { METHOD_NOT_ALLOWED_RESPONSE } from '@tally/runtime';

type Json = Record<string, unknown>;

export const openApiInfo = {
  openapi: '3.0.3',
  info: {
    title: 'Tally query API',
    version: '1.0.0',
    description:
      "The read path of the Tally pipeline: display counts, featured items, user history, recommendations, analytics and tag search. Every parameter's type, range, pattern and default here is the server's own rule (the decoders are built from the same table); a request they allow is not refused as invalid. A method a path does not serve answers 405 with an Allow header (components/responses/MethodNotAllowed); an unknown path answers 404.",
  },
  components: {
    securitySchemes: { admin: { type: 'http' as const, scheme: 'bearer', description: 'An admin token (ADMIN_TOKENS)' } },
    responses: {
      MethodNotAllowed: METHOD_NOT_ALLOWED_RESPONSE,
    },
  },
};

const errorBody = (description: string): Json => ({
  description,
  type: 'object',
  properties: {
    error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' }, parameter: { type: 'string' } } },
  },
});

const commonErrors = (extra: Record<number, string>): Record<number, Json> => {
  const out: Record<number, Json> = {
    400: errorBody('A parameter is invalid; error.parameter names it'),
    429: errorBody('Rate limit exceeded; see Retry-After'),
    503: errorBody('A store is unavailable; see Retry-After'),
  };
  for (const [status, d] of Object.entries(extra)) out[Number(status)] = errorBody(d);
  return out;
};

const adminErrors = () => commonErrors({ 401: 'Missing or unknown admin token' });
const str = { type: 'string' };
const int = { type: 'integer' };
const anyObject = { type: 'object', additionalProperties: true };
const sourced = (sources: string[]) => ({
  source: {
    type: 'string',
    enum: sources,
    description: 'Where the figures came from; a fallback is computed live because the snapshot store is unavailable',
  },
});

export const schemas = {
  counts: {
    summary: 'Display counts of a movie',
    description:
      'Views, downloads, likes (users who like it now), ratings (users who rated it and their average) and watchlists (users with it on their watchlist) as the web app shows them (Redis). A movie Redis has no keys for yet is seeded from MySQL plus the deltas not yet flushed.',
    tags: ['public'],
    response: {
      200: {
        type: 'object',
        required: ['jav_id', 'views', 'downloads', 'likes', 'rating_count', 'rating_avg', 'watchlists'],
        properties: {
          jav_id: int,
          views: int,
          downloads: int,
          likes: int,
          rating_count: int,
          rating_avg: {
            type: 'number',
            nullable: true,
            minimum: 1,
            maximum: 5,
            description: 'Average of the current ratings, two decimals; null when nobody rated it',
          },
          watchlists: int,
        },
      },
      ...commonErrors({ 404: 'No such movie' }),
    },
  },
  featured: {
    summary: 'Active featured items, in rank order, with the item loaded',
    description:
      'Cached in Redis (<prefix>featured:all, <prefix>featured:group:{group}; prefix `jav:` by default, see docs/featured-cache.md) and rebuilt from MySQL after the counter invalidates it on a featured.* event. Expired items are never returned.',
    tags: ['public'],
    response: {
      200: {
        type: 'object',
        properties: {
          group: { type: 'string', nullable: true },
          items: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                id: int,
                item_type: { type: 'string', enum: ['movie', 'actor', 'tag'] },
                item_id: int,
                group: str,
                rank: { type: 'number' },
                expires_at: { type: 'string', nullable: true },
                item: { ...anyObject, nullable: true },
              },
            },
          },
        },
      },
      ...commonErrors({}),
    },
  },
  history: {
    summary: "A user's viewing and download history, newest view first",
    tags: ['public'],
    response: {
      200: {
        ...anyObject,
        description: "{ user_id, items: [...], limit, offset, next_offset }; an item field the app's history table does not keep is null",
      },
      ...commonErrors({ 404: 'No such user' }),
    },
  },
  recommendations: {
    summary: 'Recommendations for a user',
    description: 'From the recommendation snapshot; popularity when the user has none or MongoDB is unavailable (source says which).',
    tags: ['public'],
    response: {
      200: {
        type: 'object',
        properties: {
          user_id: int,
          ...sourced(['snapshot', 'popularity_fallback']),
          generated_at: { type: 'string', nullable: true },
          items: { type: 'array', items: { type: 'object', properties: { jav_id: int, score: { type: 'number' }, reason: str } } },
        },
      },
      ...commonErrors({ 404: 'No such user' }),
    },
  },
  tags: {
    summary: 'Tag search by name prefix',
    tags: ['public'],
    response: {
      200: {
        type: 'object',
        properties: {
          q: str,
          items: { type: 'array', items: { type: 'object', properties: { tag_id: int, name: str, movie_count: int } } },
        },
      },
      ...commonErrors({}),
    },
  },
  dashboard: {
    summary: 'The analytics dashboard (admin)',
    description:
      'From the latest analytics snapshot; computed from MySQL when MongoDB is unavailable (source: mysql_fallback, also in the X-Tally-Source header).',
    tags: ['admin'],
    security: [{ admin: [] }],
    response: {
      200: { type: 'object', properties: { ...sourced(['snapshot', 'mysql_fallback']), snapshot: anyObject } },
      ...adminErrors(),
    },
  },
  searches: {
    summary: 'Popular or zero-result searches (admin)',
    tags: ['admin'],
    security: [{ admin: [] }],
    response: {
      200: {
        type: 'object',
        properties: {
          ...sourced(['snapshot', 'mysql_fallback']),
          generated_at: str,
          window: str,
          zero_results: { type: 'boolean' },
          items: { type: 'array', items: anyObject },
        },
      },
      ...adminErrors(),
    },
  },
  health: {
    summary: 'Pipeline health (admin): consumer lag per group, dead letters by reason, time since the last flush, sync and snapshot',
    tags: ['admin'],
    security: [{ admin: [] }],
    response: { 200: anyObject, ...adminErrors() },
  },
  session: {
    summary: 'Checks an admin token (the admin UI logs in with it)',
    tags: ['admin'],
    security: [{ admin: [] }],
    response: { 200: { type: 'object', properties: { ok: { type: 'boolean' } } }, ...adminErrors() },
  },
} satisfies Record<string, Json>;
