#!/usr/bin/env node
import { readiness, createMysql } from '@tally/clients';
import { configOrExit } from '@tally/config';
import { topicNames } from '@tally/events';
import { runConsumerService } from '@tally/kafka';
import { assertCatalog, loadCatalog } from '@tally/catalog';
import { historyBinding } from './binding';
import { loadHistoryConfig } from './config';
import type { HistoryEvent } from './handler';

/** Wiring only: config → MySQL → sink → the shared consumer service (runner, management server, signals). */
async function main(): Promise<void> {
  const config = configOrExit('history', () => loadHistoryConfig());
  const names = topicNames(config.TOPIC_PREFIX);
  await runConsumerService<HistoryEvent>('history', names.deadLetter, config, async ({ metrics }) => {
    // One connection per partition in flight, plus one for readiness probes.
    const db = createMysql({ url: config.MYSQL_URL, poolMax: config.PARTITION_CONCURRENCY + 1 });
    const catalog = loadCatalog(config.CATALOG_MAPPING);
    await assertCatalog(db, catalog, ['history']);
    return {
      resources: [{ name: 'mysql', close: () => db.destroy() }],
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
