#!/usr/bin/env node
import type { ServerResponse } from 'node:http';
import { configOrExit } from '@tally/config';
import { createKafka, eventSchemaCatalog, RegistryCodec, TallyProducer, backoffMs } from '@tally/kafka';
import { createLogger, errorMessage, Lifecycle, releaseMemoryWhenIdle, ServiceMetrics } from '@tally/runtime';
import { topicNames } from '@tally/events';
// The Redis factory alone: @tally/clients' index also loads knex, mongodb and the Elasticsearch
// client, +30 MB of RSS in a process that uses none of them.
import { createRedis } from '@tally/clients/redis';
import { buildApp, type IngestDeps } from './app';
import { loadIngestConfig, type IngestConfig } from './config';
import { RedisCountedViews } from './counted-views-redis';
import { EventSink } from './sink';
import { ViewWindow } from './view-window';

// How often the ingest API makes sure the registry still has its schemas: the stack's and compose's
// registries keep them in MySQL, but one run in memory (or emptied by hand) comes back without them,
// and this is at most how long we produce with ids the registry has forgotten. 14 lookups (one per
// schema) every 5 s: cheap enough to keep with a registry that has storage too.
const REGISTRY_CHECK_MS = 5_000;

/** Wiring only: config → clients → app → signals. */
async function main(): Promise<void> {
  const config = configOrExit('ingest-api', () => loadIngestConfig());
  // With ANONYMIZE_IP the stored events carry no raw IP, so the logs may not either.
  const logger = createLogger({
    service: 'ingest-api',
    level: config.LOG_LEVEL,
    redactPersonalData: config.LOG_REDACT_PERSONAL_DATA || config.ANONYMIZE_IP,
  });
  const lifecycle = new Lifecycle(logger, { shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT });
  lifecycle.installProcessHandlers();
  const metrics = new ServiceMetrics('ingest-api');
  const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: 'ingest-api', logger });
  const producer = new TallyProducer(kafka, { sendTimeoutMs: config.PRODUCE_TIMEOUT });
  const codec = new RegistryCodec(config.SCHEMA_REGISTRY_URL, { catalog: eventSchemaCatalog(config.TOPIC_PREFIX), logger });
  const sink = new EventSink(codec, producer, logger, topicNames(config.TOPIC_PREFIX));

  lifecycle.onShutdown('kafka producer', () => producer.disconnect());
  const viewWindow = viewWindowOf(config, logger, lifecycle);
  const rateLimitRedis = rateLimitRedisOf(config, logger, lifecycle);
  const app = await buildApp({
    config,
    logger,
    metrics,
    viewWindow,
    rateLimitRedis,
    produce: (events) => sink.produce(events),
    readiness: [
      {
        name: 'kafka',
        check: () => {
          if (!producer.isConnected) throw new Error('producer not connected');
        },
      },
      {
        name: 'registry',
        check: () => {
          if (!sink.ready) throw new Error('schemas not registered yet');
        },
      },
    ],
  });
  // Registered after the producer: closes first, so in-flight requests finish their produce.
  lifecycle.onShutdown('http server', () => app.close());
  // A request is work until its response is closed; the raw server's events cost no Fastify hook on the hot route.
  const idle = releaseMemoryWhenIdle({ afterMs: config.IDLE_GC_AFTER, logger });
  app.server.on('request', (_req, res: ServerResponse) => res.once('close', idle.begin()));
  lifecycle.onShutdown('idle memory', () => idle.stop());
  await app.listen({ port: config.PORT, host: config.HOST });

  // Dependencies may come up after us: keep trying in the background; /readyz says when we are ready.
  void connectWithRetry('kafka', () => producer.connect(), logger, lifecycle);
  void connectWithRetry('registry', () => sink.registerSchemas(), logger, lifecycle);
  void every(REGISTRY_CHECK_MS, () => sink.checkRegistry(), lifecycle);
}

/**
 * VIEW_DEDUP_WINDOW's Redis, or nothing when the window is off. Not a readiness check: without Redis
 * views are counted unchecked (fail open), ingestion goes on. No offline queue and no retries, so an
 * outage fails each request's check at once instead of holding it for the reconnect.
 */
function viewWindowOf(
  config: Readonly<IngestConfig>,
  logger: ReturnType<typeof createLogger>,
  lifecycle: Lifecycle,
): IngestDeps['viewWindow'] {
  if (config.VIEW_DEDUP_WINDOW === undefined) return undefined;
  const redis = createRedis(
    { url: config.REDIS_URL, connectionName: 'tally-ingest-api' },
    { enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: config.VIEW_DEDUP_TIMEOUT, enableAutoPipelining: true },
  );
  // The window logs one warning per outage; ioredis would print every reconnect failure.
  redis.on('error', (err: Error) => logger.debug({ err: err.message }, 'view de-dup redis error'));
  // Registered before the HTTP server, so it closes after it: in-flight requests finish their check.
  lifecycle.onShutdown('redis', async () => {
    await redis.quit();
  });
  logger.info({ windowMs: config.VIEW_DEDUP_WINDOW }, 'view de-dup window on: one counted view per viewer and movie per window');
  return new ViewWindow(new RedisCountedViews(redis), { windowMs: config.VIEW_DEDUP_WINDOW, topicPrefix: config.TOPIC_PREFIX }, logger);
}

/**
 * The rate limits' Redis: every instance counts in the same buckets, so N instances enforce one
 * limit, not N. Like the view window it never holds a request: no offline queue, no retries, a short
 * command timeout, and the limiter lets a request through when Redis does not answer.
 */
function rateLimitRedisOf(
  config: Readonly<IngestConfig>,
  logger: ReturnType<typeof createLogger>,
  lifecycle: Lifecycle,
): IngestDeps['rateLimitRedis'] {
  const redis = createRedis(
    { url: config.REDIS_URL, connectionName: 'tally-ingest-api-limits' },
    // Auto-pipelining: the limit checks of the requests read in one tick leave in one socket write;
    // one write (and one read) per request was ~12 % of the API's CPU at 1-event requests (#19).
    { enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: config.RATE_LIMIT_TIMEOUT, enableAutoPipelining: true },
  );
  let down = false;
  redis.on('error', (err: Error) => {
    if (!down) logger.warn({ err: err.message }, 'rate-limit redis unavailable: requests are not limited until it is back');
    down = true;
  });
  redis.on('ready', () => {
    if (down) logger.info('rate-limit redis back: limits enforced again');
    down = false;
  });
  lifecycle.onShutdown('rate-limit redis', async () => {
    await redis.quit().catch(() => undefined);
  });
  return redis;
}

/** Runs `fn` every `ms` (never overlapping) until shutdown. */
async function every(ms: number, fn: () => Promise<void>, lifecycle: Lifecycle): Promise<void> {
  while (!lifecycle.isStopping) {
    await new Promise((r) => setTimeout(r, ms).unref());
    if (!lifecycle.isStopping) await fn();
  }
}

async function connectWithRetry(
  what: string,
  fn: () => Promise<void>,
  logger: ReturnType<typeof createLogger>,
  lifecycle: Lifecycle,
): Promise<void> {
  for (let attempt = 0; !lifecycle.isStopping; attempt++) {
    try {
      await fn();
      return;
    } catch (err) {
      const wait = backoffMs(attempt, 500, 10_000);
      logger.warn({ dependency: what, err: errorMessage(err), waitMs: wait }, 'dependency not available yet');
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}

void main();
