#!/usr/bin/env node
// Each client's own module: @tally/clients' index also loads mongodb and the Elasticsearch client
// (+25 MB of RSS in a process that uses neither).
import { readiness } from '@tally/clients/checks';
import { createMysql } from '@tally/clients/mysql';
import { configOrExit } from '@tally/config';
import { runJobService } from '@tally/jobs';
import { jobNames } from '@tally/layout';
import { loadRetentionConfig, retentionSettings, topicRetention } from './config';
import { retentionRules } from './handler';
import { retentionMetrics, runRetention } from './prune';
import { RetentionSink } from './sink';

const SUMMARY =
  "Deletes rows past their retention from Tally's raw logs, history_applied_events, dead letters, requeue records, the flush ledger and job_runs, in small batches that never hold long locks.";

/** Wiring only: config → MySQL → the rules → the shared job service (lock, job_runs, schedule, signals). */
async function main(): Promise<void> {
  const config = configOrExit(jobNames.retention, loadRetentionConfig);
  const rules = retentionRules(retentionSettings(config), topicRetention());
  await runJobService({ name: jobNames.retention, summary: SUMMARY }, config, process.argv.slice(2), async ({ metrics }) => {
    // One DELETE at a time, plus the job lock's own connection and job_runs writes.
    const db = createMysql({ url: config.MYSQL_URL, poolMax: config.MYSQL_POOL_SIZE });
    const sink = new RetentionSink(db);
    const hooks = retentionMetrics(metrics);
    const options = {
      maxRows: config.RETENTION_BATCH_ROWS,
      maxLockMs: config.RETENTION_MAX_LOCK,
      pauseMs: config.RETENTION_BATCH_PAUSE,
      onBatch: hooks.onBatch,
    };
    return {
      db,
      resources: [{ name: 'mysql', close: () => db.destroy() }],
      readiness: [readiness.mysql(db)],
      run: (ctx) => runRetention({ sink, rules, options, now: () => new Date() }, ctx, hooks.record),
    };
  });
}

void main();
