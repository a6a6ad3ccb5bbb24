#!/usr/bin/env node
import { configOrExit } from '@tally/config';
import { createKafka, eventSchemaCatalog, RegistryCodec, TallyProducer, backoffMs } from '@tally/kafka';
import { createLogger, errorMessage, Lifecycle, ServiceMetrics } from '@tally/runtime';
import { topicNames } from '@tally/events';
import { buildApp } from './app';
import { loadIngestConfig } from './config';
import { EventSink } from './sink';

// How often the ingest API makes sure the registry still has its schemas (a restarted in-memory
// registry comes back empty): at most this long producing with ids the registry has forgotten.
const REGISTRY_CHECK_MS = 5_000;

/** Wiring only: config → clients → app → signals. */
async function main(): Promise<void> {
  const config = configOrExit('ingest-api', () => loadIngestConfig());
  // With ANONYMIZE_IP the stored events carry no raw IP, so the logs may not either.
  const logger = createLogger({ service: 'ingest-api', level: config.LOG_LEVEL, redactPersonalData: config.LOG_REDACT_PERSONAL_DATA || config.ANONYMIZE_IP });
  const lifecycle = new Lifecycle(logger, { shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT });
  lifecycle.installProcessHandlers();
  const metrics = new ServiceMetrics('ingest_api');
  const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: 'ingest-api', logger });
  const producer = new TallyProducer(kafka, { sendTimeoutMs: config.PRODUCE_TIMEOUT });
  const codec = new RegistryCodec(config.SCHEMA_REGISTRY_URL, { catalog: eventSchemaCatalog(config.TOPIC_PREFIX), logger });
  const sink = new EventSink(codec, producer, logger, topicNames(config.TOPIC_PREFIX));

  lifecycle.onShutdown('kafka producer', () => producer.disconnect());
  const app = await buildApp({
    config, logger, metrics,
    produce: (events) => sink.produce(events),
    readiness: [
      { name: 'kafka', check: () => { if (!producer.isConnected) throw new Error('producer not connected'); } },
      { name: 'registry', check: () => { if (!sink.ready) throw new Error('schemas not registered yet'); } },
    ],
  });
  // Registered after the producer: closes first, so in-flight requests finish their produce.
  lifecycle.onShutdown('http server', () => app.close());
  await app.listen({ port: config.PORT, host: config.HOST });

  // Dependencies may come up after us: keep trying in the background; /readyz says when we are ready.
  void connectWithRetry('kafka', () => producer.connect(), logger, lifecycle);
  void connectWithRetry('registry', () => sink.registerSchemas(), logger, lifecycle);
  void every(REGISTRY_CHECK_MS, () => sink.checkRegistry(), lifecycle);
}

/** Runs `fn` every `ms` (never overlapping) until shutdown. */
async function every(ms: number, fn: () => Promise<void>, lifecycle: Lifecycle): Promise<void> {
  while (!lifecycle.isStopping) {
    await new Promise((r) => setTimeout(r, ms).unref());
    if (!lifecycle.isStopping) await fn();
  }
}

async function connectWithRetry(what: string, fn: () => Promise<void>, logger: ReturnType<typeof createLogger>, lifecycle: Lifecycle): Promise<void> {
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
