import { z } from 'zod';
import { bool, csvList, durationMs, loadConfig, port } from '@tally/config';
import { serviceConfigSchema } from '@tally/runtime';

export const ingestConfigSchema = serviceConfigSchema.extend({
  PORT: port().default(8080),
  HOST: z.string().default('127.0.0.1'),
  // Write keys. Browser keys go into public pages; server keys stay on the web app's back end and may
  // also set the end user's ip and user agent in the body.
  BROWSER_KEYS: csvList().default('dev-browser-key'),
  SERVER_KEYS: csvList().default('dev-server-key'),
  CORS_ORIGINS: csvList().default('http://localhost:8000,http://127.0.0.1:8000'),
  MAX_EVENTS_PER_REQUEST: z.coerce.number().int().min(1).max(10_000).default(500),
  BODY_LIMIT_BYTES: z.coerce.number().int().min(1_024).default(1_048_576),
  RATE_LIMIT_MAX: z.coerce.number().int().min(1).default(6_000),
  RATE_LIMIT_WINDOW: durationMs().default('1m'),
  // Addresses or CIDRs of proxies whose X-Forwarded-For is believed (fastify trustProxy); none by default.
  TRUSTED_PROXIES: z.string().default(''),
  ANONYMIZE_IP: bool().default('false'),
  PRODUCE_TIMEOUT: durationMs().default('5s'),
  // Seconds a client is told to wait after a 503 (Kafka or registry unavailable).
  RETRY_AFTER_SECONDS: z.coerce.number().int().min(1).default(5),
  // One counted view per viewer and movie per window (the rest are logged with repeat_view = true).
  // Unset by default: the web app counts every view. Uses REDIS_URL.
  VIEW_DEDUP_WINDOW: durationMs().pipe(z.number().min(1_000, 'must be at least 1s (leave it unset to count every view)')).optional(),
  // How long a request waits for Redis's de-dup answer before counting its views anyway (fail open):
  // the check must never cost more latency than a few Redis round trips, nor block ingestion.
  VIEW_DEDUP_TIMEOUT: durationMs().pipe(z.number().min(1, 'must be at least 1ms')).default('100ms'),
});
export type IngestConfig = z.infer<typeof ingestConfigSchema>;

export function loadIngestConfig(env?: Record<string, string | undefined>): Readonly<IngestConfig> {
  return loadConfig(ingestConfigSchema, env);
}
