#!/usr/bin/env node
import { configOrExit } from '@tally/config';
// Each client's own module: @tally/clients' index also loads mongodb and the Elasticsearch client
// (+25 MB of RSS in a process that uses neither).
import { readiness } from '@tally/clients/checks';
import { createMysql } from '@tally/clients/mysql';
import { createRedis } from '@tally/clients/redis';
import { topicNames } from '@tally/events';
import { runConsumerService } from '@tally/kafka';
import { catalogFromConfig, checkCatalogAtStart } from '@tally/catalog';
import { COUNTER_PARTS, counterBinding, type CounterEvent } from './binding';
import { loadCounterConfig } from './config';

const { c, catalog } = configOrExit('counter', () => {
  const c = loadCounterConfig();
  return { c, catalog: catalogFromConfig(c) };
});
const names = topicNames(c.TOPIC_PREFIX);
void runConsumerService<CounterEvent>('counter', names.deadLetter, c, async ({ logger, lifecycle }) => {
  const redis = createRedis({ url: c.REDIS_URL, connectionName: 'tally-counter' });
  const db = createMysql({ url: c.MYSQL_URL, poolMax: c.MYSQL_POOL_SIZE });
  // A mismatched schema stops the service before it consumes; MySQL down only postpones the check.
  const check = await checkCatalogAtStart(db, catalog, COUNTER_PARTS, { logger, onMismatch: (err) => lifecycle.fatal(err, 'stopped') });
  return {
    resources: [
      { name: 'catalog check', close: () => check.stop() },
      { name: 'mysql', close: () => db.destroy() },
      { name: 'redis', close: () => redis.quit() },
    ],
    readiness: [readiness.redis(redis), readiness.mysql(db)],
    runner: {
      ...counterBinding(redis, db, names, { dedupTtlSeconds: c.DEDUP_WINDOW_SECONDS }, logger, catalog),
      groupId: c.GROUP_ID,
      maxChunk: c.MAX_CHUNK,
      partitionsConsumedConcurrently: c.PARTITION_CONCURRENCY,
    },
  };
});
