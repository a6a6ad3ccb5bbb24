import { z } from 'zod';
import { csvList, durationMs, loadConfig, port } from '@tally/config';
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
    TRUSTED_PROXIES: z.string().default(''),
    // Featured lists: invalidated by the counter on every featured.* event, so the TTL only bounds
    // how long a missed invalidation (counter down) can show stale items.
    FEATURED_CACHE_TTL: durationMs().default('10m'),
    // es-sync writes `<prefix>tags` (an alias); another environment on the same cluster uses another prefix.
    ES_INDEX_PREFIX: z.string().regex(/^[a-z0-9._-]*$/, 'may contain only lower-case letters, digits, ".", "_" and "-"').default(''),
    // Consumer groups shown with their lag on the pipeline-health panel (each service's GROUP_ID).
    CONSUMER_GROUPS: csvList().default('tally-event-logger,tally-counter,tally-history'),
    // MongoDB is a cache of finished snapshots: give up on it quickly and answer from MySQL instead.
    MONGO_TIMEOUT: durationMs().default('1500ms'),
    MYSQL_POOL_SIZE: z.coerce.number().int().min(1).max(100).default(10),
    RETRY_AFTER_SECONDS: z.coerce.number().int().min(1).default(5),
  })
  .superRefine((c, ctx) => {
    // The development default must never guard production data.
    if (c.NODE_ENV === 'production' && c.ADMIN_TOKENS.includes(DEV_ADMIN_TOKEN)) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['ADMIN_TOKENS'], message: `must be set in production (the default '${DEV_ADMIN_TOKEN}' is public)` });
    }
    if (c.ADMIN_TOKENS.some((t) => t.length < 12)) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['ADMIN_TOKENS'], message: 'each token must be at least 12 characters' });
    }
  });
export type QueryConfig = z.infer<typeof queryConfigSchema>;

export function loadQueryConfig(env?: Record<string, string | undefined>): Readonly<QueryConfig> {
  return loadConfig(queryConfigSchema, env);
}
