#!/usr/bin/env node
// Each client's own module: @tally/clients' index also loads mongodb and the Elasticsearch client
// (+25 MB of RSS in a process that uses neither).
import { readiness } from '@tally/clients/checks';
import { createMysql } from '@tally/clients/mysql';
import { configOrExit } from '@tally/config';
import { topicNames, type TallyEvent } from '@tally/events';
import { runConsumerService } from '@tally/kafka';
import { loadEventLoggerConfig } from './config';
import { eventLoggerBinding } from './binding';

/** Wiring only: config → MySQL → the shared consumer service with the raw-log sink. */
async function main(): Promise<void> {
  const config = configOrExit('event-logger', () => loadEventLoggerConfig());
  const names = topicNames(config.TOPIC_PREFIX);
  await runConsumerService<TallyEvent>('event-logger', names.deadLetter, config, async ({ logger, metrics }) => {
    const db = createMysql({ url: config.MYSQL_URL, poolMax: config.MYSQL_POOL_SIZE });
    return {
      resources: [{ name: 'mysql', close: () => db.destroy() }],
      readiness: [readiness.mysql(db)],
      runner: {
        ...eventLoggerBinding(db, names, logger, metrics),
        groupId: config.GROUP_ID,
        maxChunk: config.MAX_CHUNK,
        partitionsConsumedConcurrently: config.PARTITION_CONCURRENCY,
      },
    };
  });
}

void main();
