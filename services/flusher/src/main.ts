#!/usr/bin/env node
// Each client's own module: @tally/clients' index also loads mongodb and the Elasticsearch client
// (+25 MB of RSS and ~250 ms of start-up in a process that uses neither).
import { readiness } from '@tally/clients/checks';
import { createMysql } from '@tally/clients/mysql';
import { createRedis } from '@tally/clients/redis';
import { configOrExit } from '@tally/config';
import { runJobService } from '@tally/jobs';
import { jobNames } from '@tally/layout';
import { catalogFromConfig, checkCatalogAtStart } from '@tally/catalog';
import { loadFlusherConfig, type Failpoint } from './config';
import { Flusher } from './flush';
import { FlushSink } from './sink';

/** Wiring only: config → MySQL + Redis → sink → flush → the shared scheduled-job service. */
async function main(): Promise<void> {
  const { config, catalog } = configOrExit('flusher', () => {
    const config = loadFlusherConfig();
    return { config, catalog: catalogFromConfig(config) };
  });
  const failpoint = (at: Failpoint): void => {
    // Test-only (see config.ts): die the way an OOM kill or a power cut would, with no cleanup.
    if (config.FLUSHER_FAILPOINT === at) process.kill(process.pid, 'SIGKILL');
  };
  await runJobService(
    { name: jobNames.flusher, summary: "Moves the counter's pending deltas from Redis into MySQL jav.views/downloads/likes." },
    config,
    process.argv.slice(2),
    async ({ metrics, logger, fatal }) => {
      // The job lock holds one connection for the whole run, the flush transaction another, readiness a third.
      const db = createMysql({ url: config.MYSQL_URL, poolMax: config.MYSQL_POOL_SIZE });
      const redis = createRedis({ url: config.REDIS_URL, connectionName: 'tally-flusher' });
      // A mismatched schema stops the service before any run; MySQL down only postpones the check.
      const check = await checkCatalogAtStart(db, catalog, ['movies'], { logger, onMismatch: fatal });
      const sink = new FlushSink(
        redis,
        db,
        { mysqlChunkRows: config.MYSQL_CHUNK_ROWS, realignChunkKeys: config.REALIGN_CHUNK_KEYS, readPageFields: config.READ_PAGE_FIELDS },
        catalog,
      );
      const flusher = new Flusher(sink, metrics, failpoint);
      return {
        db,
        resources: [
          { name: 'catalog check', close: () => check.stop() },
          { name: 'mysql', close: () => db.destroy() },
          { name: 'redis', close: () => redis.quit() },
        ],
        readiness: [readiness.mysql(db), readiness.redis(redis)],
        run: (ctx) => flusher.run(ctx),
      };
    },
  );
}

void main();
