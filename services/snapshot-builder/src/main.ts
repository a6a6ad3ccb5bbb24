#!/usr/bin/env node
import { createMongo, createMysql, readiness } from '@tally/clients';
import { configOrExit } from '@tally/config';
import { topicNames } from '@tally/events';
import { runJobService } from '@tally/jobs';
import { createKafka } from '@tally/kafka';
import { SnapshotStore } from '@tally/analytics';
import { jobNames } from '@tally/layout';
import { buildSnapshots } from './build';
import { loadSnapshotBuilderConfig } from './config';
import { DeadLetterCopier } from './dead-letter-copier';

const SUMMARY =
  'Builds the analytics and recommendation snapshots in MySQL and stores them in MongoDB (analytics_snapshots, recommendation_snapshots); copies new dead letters into MySQL first.';

/** Wiring only: config → MySQL, MongoDB, Kafka → the shared job service (lock, job_runs, schedule, signals). */
async function main(): Promise<void> {
  const config = configOrExit(jobNames.snapshotBuilder, () => loadSnapshotBuilderConfig());
  const spec = {
    name: jobNames.snapshotBuilder,
    summary: SUMMARY,
    flags: [{ name: 'evaluate', description: 'also measure recommendation quality offline (hit rate of a held-out last view vs popularity)' }],
  };
  await runJobService(spec, config, process.argv.slice(2), async ({ logger }) => {
    // Queries of one build run in parallel (dashboard figures) plus the job lock's own connection.
    const db = createMysql({ url: config.MYSQL_URL, poolMax: 6 });
    const mongo = createMongo({ url: config.MONGO_URL });
    const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: config.KAFKA_CLIENT_ID, logger });
    const store = new SnapshotStore(mongo.db());
    const copier = new DeadLetterCopier(kafka, db, topicNames(config.TOPIC_PREFIX), { groupPrefix: config.DLQ_GROUP_PREFIX, timeoutMs: config.DLQ_COPY_TIMEOUT, logger });
    return {
      db,
      resources: [
        { name: 'mysql', close: () => db.destroy() },
        { name: 'mongodb', close: () => mongo.close() },
      ],
      readiness: [readiness.mysql(db), readiness.mongo(mongo)],
      run: (ctx) => buildSnapshots({ db, store, copyDeadLetters: (signal) => copier.copy(signal) }, ctx),
    };
  });
}

void main();
