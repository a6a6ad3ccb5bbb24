import type { Logger } from '@tally/runtime';
import {
  createLogger,
  errorMessage,
  Lifecycle,
  releaseMemoryWhenIdle,
  ServiceMetrics,
  startManagementServer,
  type ReadinessCheck,
} from '@tally/runtime';
import { backoffMs } from './backoff';
import { createKafka } from './client';
import { RegistryCodec } from './codec';
import { TallyProducer } from './producer';
import { ConsumerRunner, type ConsumerRunnerOptions } from './runner';
import { eventSchemaCatalog } from './schema-catalog';

/** Settings every consumer service has (a subset of its zod config). */
export interface ConsumerServiceConfig {
  LOG_LEVEL: string;
  LOG_REDACT_PERSONAL_DATA: boolean;
  KAFKA_BROKERS: readonly string[];
  SCHEMA_REGISTRY_URL: string;
  MANAGEMENT_HOST: string;
  MANAGEMENT_PORT: number;
  SHUTDOWN_TIMEOUT: number;
  KAFKA_SESSION_TIMEOUT: number;
  IDLE_GC_AFTER: number;
  TOPIC_PREFIX: string;
}

/**
 * What a consumer service's sink consumes and how it applies it: the part shared by the live service
 * (main.ts) and `tally replay`, which feeds the same sink from its own consumer.
 */
export type SinkBinding<T> = Pick<
  ConsumerRunnerOptions<T>,
  'topics' | 'handle' | 'validate' | 'resumeFrom' | 'receivedAtOf' | 'handleEmptyChunks'
>;

export interface ConsumerServiceParts<T> {
  /** What the service's sink needs, created once; closed (in reverse order) after the consumer stops. */
  resources: { name: string; close: () => Promise<unknown> | unknown }[];
  readiness: ReadinessCheck[];
  runner: Pick<
    ConsumerRunnerOptions<T>,
    | 'groupId'
    | 'topics'
    | 'handle'
    | 'validate'
    | 'maxChunk'
    | 'partitionsConsumedConcurrently'
    | 'resumeFrom'
    | 'receivedAtOf'
    | 'handleEmptyChunks'
  >;
  /** Called once the consumer runs (e.g. to start timers); returns what to stop before the consumer. */
  afterStart?: () => Promise<(() => Promise<void>) | void>;
}

/**
 * The wiring every consumer service shares, so a service's main.ts is a table of contents:
 * config → logger, metrics → its own resources → management server → consumer runner → signals.
 * Shutdown order: management server says not ready → consumer drains and commits → producer (dead
 * letters) flushes → the service's clients close → exit 0.
 */
export async function runConsumerService<T>(
  name: string,
  deadLetterTopic: string,
  config: Readonly<ConsumerServiceConfig>,
  build: (ctx: { logger: Logger; metrics: ServiceMetrics; lifecycle: Lifecycle }) => Promise<ConsumerServiceParts<T>>,
): Promise<void> {
  const logger = createLogger({ service: name, level: config.LOG_LEVEL, redactPersonalData: config.LOG_REDACT_PERSONAL_DATA });
  const lifecycle = new Lifecycle(logger, { shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT });
  lifecycle.installProcessHandlers();
  const metrics = new ServiceMetrics(name);
  try {
    const parts = await build({ logger, metrics, lifecycle });
    for (const r of parts.resources) lifecycle.onShutdown(r.name, r.close);
    const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: name, logger });
    const producer = new TallyProducer(kafka);
    await producer.connect();
    lifecycle.onShutdown('dead-letter producer', () => producer.disconnect());
    // The whole catalog, so this service can put back what a registry restarted empty forgot (with
    // the same ids) instead of dead-lettering good events as unknown_schema.
    const codec = new RegistryCodec(config.SCHEMA_REGISTRY_URL, { catalog: eventSchemaCatalog(config.TOPIC_PREFIX), logger });
    void registerCatalog(codec, logger, lifecycle);
    const idle = releaseMemoryWhenIdle({ afterMs: config.IDLE_GC_AFTER, logger });
    lifecycle.onShutdown('idle memory', () => idle.stop());
    const runner = new ConsumerRunner<T>({
      ...parts.runner,
      kafka,
      service: name,
      codec,
      producer,
      deadLetterTopic,
      logger,
      metrics,
      sessionTimeoutMs: config.KAFKA_SESSION_TIMEOUT,
      heartbeatIntervalMs: Math.max(500, Math.floor(config.KAFKA_SESSION_TIMEOUT / 10)),
      onWork: () => idle.begin(),
      onFatal: (err) => lifecycle.fatal(err, 'consumer crashed beyond recovery'),
    });
    const mgmt = await startManagementServer({
      port: config.MANAGEMENT_PORT,
      host: config.MANAGEMENT_HOST,
      metrics,
      logger,
      checks: [
        ...parts.readiness,
        {
          name: 'consumer',
          check: () => {
            if (!runner.isReady) throw new Error('not a member of the consumer group yet');
          },
        },
      ],
    });
    // Shutdown runs these in reverse: timers → not ready → consumer drains → management server
    // closes (so /metrics stays scrapeable while draining) → producer → the service's clients.
    lifecycle.onShutdown('management server', () => mgmt.close());
    lifecycle.onShutdown('consumer', () => runner.stop());
    lifecycle.onShutdown('readiness', () => mgmt.markShuttingDown());
    await runner.start();
    const stopExtra = parts.afterStart ? await parts.afterStart() : undefined;
    if (stopExtra) lifecycle.onShutdown('timers', stopExtra);
    logger.info({ group: parts.runner.groupId, topics: parts.runner.topics.length, management: mgmt.url }, 'consumer service started');
  } catch (err) {
    lifecycle.fatal(err, 'start failed');
  }
}

/**
 * Registers the catalog at start, in the background (the registry may come up after us; decoding
 * waits for it anyway), retrying until it is done. It also fills the codec's cache, so the ids of
 * the catalog are known without a lookup.
 */
async function registerCatalog(codec: RegistryCodec, logger: Logger, lifecycle: Lifecycle): Promise<void> {
  for (let attempt = 0; !lifecycle.isStopping; attempt++) {
    try {
      const { ids } = await codec.ensureCatalog();
      logger.info({ schemas: ids.size }, 'schemas registered');
      return;
    } catch (err) {
      const wait = backoffMs(attempt, 500, 10_000);
      logger.warn({ dependency: 'registry', err: errorMessage(err), waitMs: wait }, 'cannot register the schemas yet');
      await new Promise((r) => setTimeout(r, wait).unref());
    }
  }
}
