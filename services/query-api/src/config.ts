import { z } from 'zod';
import type { CatalogMapping } from '@tally/catalog';
import { ConfigError, csvList, durationMs, esIndexPrefix, loadConfig, mysqlPoolSize, port, trustedProxies } from '@tally/config';
import { serviceConfigSchema } from '@tally/runtime';

const DEV_ADMIN_TOKEN = 'dev-admin-token';

export const queryConfigSchema = serviceConfigSchema
  .extend({
    PORT: port().default(8090),
    HOST: z.string().default('127.0.0.1'),
    // Bearer tokens for /v1/analytics/*, /v1/admin/* and the admin UI; compared in constant time.
    ADMIN_TOKENS: csvList().default(DEV_ADMIN_TOKEN),
    // Public routes, per client ip. The web app's back end calls from few ips, so the limit is generous.
    RATE_LIMIT_MAX: z.coerce.number().int().min(1).default(6_000),
    RATE_LIMIT_WINDOW: durationMs().default('1m'),
    TRUSTED_PROXIES: trustedProxies(),
    // Deprecated: the featured-cache TTL is part of the cache's contract with the web app, which
    // reads the same keys, so it lives in the catalog mapping (redis.featuredTtlSeconds, 600 s by
    // default). Still accepted when it agrees with the mapping, with a warning (featuredTtlWarning).
    FEATURED_CACHE_TTL: durationMs().optional(),
    // es-sync writes `<prefix>tags` (an alias); another environment on the same cluster uses another prefix.
    ES_INDEX_PREFIX: esIndexPrefix(),
    // Consumer groups shown with their lag on the pipeline-health panel (each service's GROUP_ID).
    CONSUMER_GROUPS: csvList().default('tally-event-logger,tally-counter,tally-history'),
    // MongoDB is a cache of finished snapshots: give up on it quickly and answer from MySQL instead.
    MONGO_TIMEOUT: durationMs().default('1500ms'),
    MYSQL_POOL_SIZE: mysqlPoolSize().default(10),
    RETRY_AFTER_SECONDS: z.coerce.number().int().min(1).default(5),
  })
  .superRefine((c, ctx) => {
    // The development default must never guard production data.
    if (c.NODE_ENV === 'production' && c.ADMIN_TOKENS.includes(DEV_ADMIN_TOKEN)) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['ADMIN_TOKENS'],
        message: `must be set in production (the default '${DEV_ADMIN_TOKEN}' is public)`,
      });
    }
    if (c.ADMIN_TOKENS.some((t) => t.length < 12)) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['ADMIN_TOKENS'], message: 'each token must be at least 12 characters' });
    }
  });
export type QueryConfig = z.infer<typeof queryConfigSchema>;

/**
 * The deprecation warning to log when FEATURED_CACHE_TTL is set to the mapping's TTL; a ConfigError
 * when it says something else (two settings for one value must not disagree).
 */
export function featuredTtlWarning(config: Pick<QueryConfig, 'FEATURED_CACHE_TTL'>, mapping: CatalogMapping): string | undefined {
  if (config.FEATURED_CACHE_TTL === undefined) return undefined;
  const seconds = mapping.redis.featuredTtlSeconds;
  if (config.FEATURED_CACHE_TTL !== seconds * 1_000) {
    throw new ConfigError([
      {
        variable: 'FEATURED_CACHE_TTL',
        reason: `is deprecated and disagrees with the catalog mapping (redis.featuredTtlSeconds = ${seconds}); set the TTL in the mapping and unset FEATURED_CACHE_TTL`,
      },
    ]);
  }
  return `FEATURED_CACHE_TTL is deprecated: the TTL comes from the catalog mapping (redis.featuredTtlSeconds = ${seconds}); unset it`;
}

export function loadQueryConfig(env?: Record<string, string | undefined>): Readonly<QueryConfig> {
  return loadConfig(queryConfigSchema, env);
}
