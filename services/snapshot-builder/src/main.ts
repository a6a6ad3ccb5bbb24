#!/usr/bin/env node
import { catalogFromConfig, checkCatalogAtStart } from '@tally/catalog';
import { createMongo, createMysql, readiness } from '@tally/clients';
import { configOrExit } from '@tally/config';
import { topicNames } from '@tally/events';
import { runJobService } from '@tally/jobs';
import { createKafka } from '@tally/kafka';
import { SnapshotStore } from '@tally/analytics';
import { jobNames } from '@tally/layout';
import { buildSnapshots, CATALOG_PARTS } from './build';
import { loadSnapshotBuilderConfig } from './config';
import { DeadLetterCopier } from './dead-letter-copier';

const SUMMARY =
  'Builds the analytics and recommendation snapshots in MySQL and stores them in MongoDB (analytics_snapshots, recommendation_snapshots); copies new dead letters into MySQL first.';

/** Wiring only: config and catalog → MySQL, MongoDB, Kafka → schema check → the shared job service (lock, job_runs, schedule, signals). */
async function main(): Promise<void> {
  const { config, catalog } = configOrExit(jobNames.snapshotBuilder, () => {
    const config = loadSnapshotBuilderConfig();
    return { config, catalog: catalogFromConfig(config) };
  });
  const spec = {
    name: jobNames.snapshotBuilder,
    summary: SUMMARY,
    flags: [
      { name: 'evaluate', description: 'also measure recommendation quality offline (hit rate of a held-out last view vs popularity)' },
    ],
  };
  await runJobService(spec, config, process.argv.slice(2), async ({ logger, fatal }) => {
    // Queries of one build run in parallel (dashboard figures) plus the job lock's own connection.
    const db = createMysql({ url: config.MYSQL_URL, poolMax: config.MYSQL_POOL_SIZE });
    // A mismatched schema stops the service before any run; MySQL down only postpones the check.
    const check = await checkCatalogAtStart(db, catalog, CATALOG_PARTS, { logger, onMismatch: fatal });
    const mongo = createMongo({ url: config.MONGO_URL });
    const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: config.KAFKA_CLIENT_ID, logger });
    const store = new SnapshotStore(mongo.db());
    const copier = new DeadLetterCopier(kafka, db, topicNames(config.TOPIC_PREFIX), {
      groupPrefix: config.DLQ_GROUP_PREFIX,
      timeoutMs: config.DLQ_COPY_TIMEOUT,
      logger,
    });
    return {
      db,
      resources: [
        { name: 'mysql', close: () => db.destroy() },
        { name: 'catalog check', close: () => check.stop() },
        { name: 'mongodb', close: () => mongo.close() },
      ],
      readiness: [readiness.mysql(db), readiness.mongo(mongo)],
      run: (ctx) => buildSnapshots({ db, catalog, store, copyDeadLetters: (signal) => copier.copy(signal) }, ctx),
    };
  });
}

void main();
