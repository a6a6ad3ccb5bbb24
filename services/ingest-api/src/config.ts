import { z } from 'zod';
import { bool, csvList, durationMs, jsonObject, loadConfig, port, trustedProxies } from '@tally/config';
import { serviceConfigSchema } from '@tally/runtime';
import { KeyRing } from './auth';

export const ingestConfigSchema = serviceConfigSchema.extend({
  PORT: port().default(8080),
  HOST: z.string().default('127.0.0.1'),
  // Write keys. Browser keys go into public pages; server keys stay on the web app's back end and may
  // also set the end user's ip and user agent in the body.
  BROWSER_KEYS: csvList().default('dev-browser-key'),
  SERVER_KEYS: csvList().default('dev-server-key'),
  // Which event types each key may send, as JSON {"<key>": ["movie.*", "search.performed"], …}; a key
  // not listed may send every type its kind allows (browser keys: user events; server keys: all).
  KEY_EVENT_TYPES: jsonObject().default('{}'),
  // Secrets the web app's back end signs user tokens with (more than one while rotating). A user_id
  // sent with a browser key counts only with a valid token for it; unset = every browser event is a guest's.
  USER_TOKEN_SECRETS: csvList().optional(),
  // A token may not live longer than this: one leaked from a page stops working within it.
  USER_TOKEN_MAX_TTL: durationMs().pipe(z.number().min(60_000, 'must be at least 1m')).default('7d'),
  CORS_ORIGINS: csvList().default('http://localhost:8000,http://127.0.0.1:8000'),
  MAX_EVENTS_PER_REQUEST: z.coerce.number().int().min(1).max(10_000).default(500),
  BODY_LIMIT_BYTES: z.coerce.number().int().min(1_024).default(1_048_576),
  // Browser keys: requests per window per (key, client ip); a page sends a few a minute.
  RATE_LIMIT_MAX: z.coerce.number().int().min(1).default(6_000),
  // Server keys: requests per window per key, whatever the address: the web app's back end sends every
  // user's events from a few addresses. 600,000 a minute = 10,000 req/s.
  RATE_LIMIT_SERVER_MAX: z.coerce.number().int().min(1).default(600_000),
  RATE_LIMIT_WINDOW: durationMs().default('1m'),
  // The limit state lives in Redis (REDIS_URL), shared by every instance. A request waits at most this
  // long for it; without an answer the request goes through (fail open: a Redis outage must not stop
  // ingestion).
  RATE_LIMIT_TIMEOUT: durationMs().pipe(z.number().min(1, 'must be at least 1ms')).default('100ms'),
  // Addresses or CIDRs of proxies whose X-Forwarded-For is believed (fastify trustProxy); none by default.
  TRUSTED_PROXIES: trustedProxies(),
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

/** The parsed settings; a ConfigError names each bad variable, KEY_EVENT_TYPES' checks included. */
export function loadIngestConfig(env?: Record<string, string | undefined>): Readonly<IngestConfig> {
  const config = loadConfig(ingestConfigSchema, env);
  // Built once here only for its checks (unknown keys, unknown types, admin events for a browser
  // key), so a bad KEY_EVENT_TYPES stops the service at start with the setting named.
  new KeyRing(config.BROWSER_KEYS, config.SERVER_KEYS, config.KEY_EVENT_TYPES);
  return config;
}
