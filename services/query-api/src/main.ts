#!/usr/bin/env node
import { AnalyticsReader } from '@tally/analytics';
import { catalogFromConfig, checkCatalogAtStart } from '@tally/catalog';
import { configOrExit } from '@tally/config';
import { createElasticsearchClient, createMongo, createMysql, createRedis, readiness } from '@tally/clients';
import { createKafka } from '@tally/kafka';
import { createLogger, Lifecycle, ServiceMetrics } from '@tally/runtime';
import { buildApp, CATALOG_PARTS } from './app';
import { forget } from '@tally/privacy';
import { RegistryCodec } from '@tally/kafka';
import { featuredTtlWarning, loadQueryConfig } from './config';
import { CountsStore } from './counts';
import { FeaturedStore } from './featured';
import { HistoryStore } from './history';
import { PipelineHealth } from './pipeline-health';
import { TagSearch } from './tag-search';

/** Wiring only: config and catalog → clients → schema check → stores → app → signals. */
async function main(): Promise<void> {
  const { config, catalog, ttlWarning } = configOrExit('query-api', () => {
    const config = loadQueryConfig();
    const catalog = catalogFromConfig(config);
    return { config, catalog, ttlWarning: featuredTtlWarning(config, catalog.mapping) };
  });
  const logger = createLogger({ service: 'query-api', level: config.LOG_LEVEL, redactPersonalData: config.LOG_REDACT_PERSONAL_DATA });
  const lifecycle = new Lifecycle(logger, { shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT });
  lifecycle.installProcessHandlers();
  if (ttlWarning) logger.warn(ttlWarning);
  const metrics = new ServiceMetrics('query-api');

  const mysql = createMysql({ url: config.MYSQL_URL, poolMax: config.MYSQL_POOL_SIZE });
  // Auto-pipelining: the counts MGETs of concurrent requests leave in one socket write per tick
  // instead of one each; those writes were the largest cost of GET counts under load (profile in #19).
  const redis = createRedis({ url: config.REDIS_URL, connectionName: 'tally-query-api' }, { enableAutoPipelining: true });
  const mongo = createMongo({ url: config.MONGO_URL, serverSelectionTimeoutMs: config.MONGO_TIMEOUT });
  // Only POST /v1/admin/forget decodes (dead letters whose key does not name the person).
  const codec = new RegistryCodec(config.SCHEMA_REGISTRY_URL);
  const es = createElasticsearchClient({ url: config.ES_URL, flavor: config.ES_FLAVOR, requestTimeoutMs: 5_000 });
  const kafkaAdmin = createKafka({ brokers: config.KAFKA_BROKERS, clientId: 'query-api', logger }).admin();
  const health = new PipelineHealth(kafkaAdmin, mysql, config.CONSUMER_GROUPS);
  // Shutdown runs in reverse registration order: the HTTP server (registered last) closes first.
  lifecycle.onShutdown('mysql', () => mysql.destroy());
  lifecycle.onShutdown('redis', async () => void (await redis.quit()));
  lifecycle.onShutdown('mongodb', () => mongo.close());
  lifecycle.onShutdown('elasticsearch', () => es.close());
  lifecycle.onShutdown('kafka admin', () => health.close());

  try {
    // Before listening: a mismatched schema never serves a request. MySQL down only postpones the check.
    const check = await checkCatalogAtStart(mysql, catalog, CATALOG_PARTS, {
      logger,
      onMismatch: (err) => lifecycle.fatal(err, 'stopped'),
    });
    lifecycle.onShutdown('catalog check', () => check.stop());
    const app = await buildApp({
      config,
      logger,
      metrics,
      health,
      counts: new CountsStore(redis, mysql, catalog),
      featured: new FeaturedStore(redis, mysql, catalog),
      history: new HistoryStore(mysql, catalog),
      // No connect() up front: the driver connects on first use, so a MongoDB outage at start only
      // means the first dashboard answers from MySQL.
      analytics: new AnalyticsReader({ mysql, catalog, mongo: mongo.db(), logger, mongoTimeoutMs: config.MONGO_TIMEOUT }),
      tags: new TagSearch(es, config.ES_INDEX_PREFIX, catalog.mapping.search.tags.index),
      // MongoDB and Elasticsearch are not readiness checks: the API answers (with fallbacks or a 503 on
      // tag search alone) without them, so taking the instance out of rotation would only make things worse.
      readiness: [readiness.mysql(mysql), readiness.redis(redis)],
      forget: (subject, requestedBy) =>
        forget({ db: mysql, catalog, redis, mongo: mongo.db(), decode: async (v) => (await codec.decode(v)).value }, subject, {
          requestedBy,
        }),
    });
    lifecycle.onShutdown('http server', () => app.close());
    await app.listen({ port: config.PORT, host: config.HOST });
    logger.info(
      {
        url: `http://${config.HOST}:${config.PORT}`,
        admin: `http://${config.HOST}:${config.PORT}/admin/`,
        docs: `http://${config.HOST}:${config.PORT}/docs`,
      },
      'query-api listening',
    );
  } catch (err) {
    lifecycle.fatal(err, 'start failed');
  }
}

void main();
