#!/usr/bin/env node
import { configOrExit } from '@tally/config';
import { createMysql, createRedis, readiness } from '@tally/clients';
import { topicNames } from '@tally/events';
import { runConsumerService } from '@tally/kafka';
import { assertCatalog, loadCatalog } from '@tally/catalog';
import { COUNTER_PARTS, counterBinding, type CounterEvent } from './binding';
import { loadCounterConfig } from './config';

const c = configOrExit('counter', () => loadCounterConfig());
const names = topicNames(c.TOPIC_PREFIX);
void runConsumerService<CounterEvent>('counter', names.deadLetter, c, async ({ logger }) => {
  const redis = createRedis({ url: c.REDIS_URL, connectionName: 'tally-counter' });
  const db = createMysql({ url: c.MYSQL_URL, poolMax: 4 });
  const catalog = loadCatalog(c.CATALOG_MAPPING);
  await assertCatalog(db, catalog, COUNTER_PARTS);
  return {
    resources: [
      { name: 'mysql', close: () => db.destroy() },
      { name: 'redis', close: () => redis.quit() },
    ],
    readiness: [readiness.redis(redis), readiness.mysql(db)],
    runner: {
      ...counterBinding(redis, db, names, { dedupTtlSeconds: c.DEDUP_WINDOW_SECONDS }, logger, catalog),
      groupId: c.GROUP_ID,
      maxChunk: c.MAX_CHUNK,
      partitionsConsumedConcurrently: c.PARTITIONS_CONCURRENTLY,
    },
  };
});
