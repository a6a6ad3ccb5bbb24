#!/usr/bin/env node
// Each client's own module: @tally/clients' index also loads mongodb and the Elasticsearch client
// (+25 MB of RSS in a process that uses neither).
import { readiness } from '@tally/clients/checks';
import { createMysql } from '@tally/clients/mysql';
import { configOrExit } from '@tally/config';
import { topicNames } from '@tally/events';
import { runConsumerService } from '@tally/kafka';
import { catalogFromConfig, checkCatalogAtStart } from '@tally/catalog';
import { historyBinding } from './binding';
import { loadHistoryConfig } from './config';
import type { HistoryMessage } from './handler';

/** Wiring only: config → MySQL → sink → the shared consumer service (runner, management server, signals). */
async function main(): Promise<void> {
  const { config, catalog } = configOrExit('history', () => {
    const config = loadHistoryConfig();
    return { config, catalog: catalogFromConfig(config) };
  });
  const names = topicNames(config.TOPIC_PREFIX);
  await runConsumerService<HistoryMessage>('history', names.deadLetter, config, async ({ metrics, logger, lifecycle }) => {
    // One connection per partition in flight, plus one for readiness probes.
    const db = createMysql({ url: config.MYSQL_URL, poolMax: config.MYSQL_POOL_SIZE ?? config.PARTITION_CONCURRENCY + 1 });
    // A mismatched schema stops the service before it consumes; MySQL down only postpones the check.
    const check = await checkCatalogAtStart(db, catalog, ['history'], { logger, onMismatch: (err) => lifecycle.fatal(err, 'stopped') });
    return {
      resources: [
        { name: 'catalog check', close: () => check.stop() },
        { name: 'mysql', close: () => db.destroy() },
      ],
      readiness: [readiness.mysql(db)],
      runner: {
        ...historyBinding(db, names, config.GROUP_ID, metrics, catalog),
        groupId: config.GROUP_ID,
        maxChunk: config.MAX_CHUNK,
        partitionsConsumedConcurrently: config.PARTITION_CONCURRENCY,
      },
    };
  });
}

void main();
