import { createTempDatabase, migrateLatest, RAW_EVENT_TABLES, type TempDatabase } from '@tally/db';
import { loadRetentionConfig, retentionSettings, topicRetention } from '../../services/retention/src/config';
import { cutoffFor, retentionRules } from '../../services/retention/src/handler';
import { runRetention } from '../../services/retention/src/prune';
import { RetentionSink } from '../../services/retention/src/sink';
import { env } from '../helpers/env';
import {
  countRows,
  DAY_MS,
  insertRows,
  OTHER_TABLES,
  rawRow,
  RetentionOracle,
  silentLogger,
  TIME_COLUMN,
  type OtherTable,
} from './support';

// Six simulated months on a real MariaDB: every simulated day the tables get a day of rows spread
// over that day, then the retention job runs once with its clock at the end of the day (the
// defaults: 90 days of raw logs, 8 of applied-event ids, …). Checked after every run: nothing inside
// a retention is gone, nothing past it is left, no batch held its locks near RETENTION_MAX_LOCK; and
// after the warm-up the sizes stay flat month over month.
const DAYS = 180;
const T0 = Date.parse('2026-01-01T00:00:00Z');
const PER_DAY: Record<string, number> = {
  ...Object.fromEntries(RAW_EVENT_TABLES.map((t) => [t, t === 'view_events' ? 1500 : 120])),
  history_applied_events: 400,
  dead_letters: 10,
  dead_letter_requeues: 4,
  flush_ledger: 288,
  job_runs: 48,
};

let tmp: TempDatabase;
const oracle = new RetentionOracle();
const config = loadRetentionConfig({});
const rules = retentionRules(retentionSettings(config), topicRetention());
const batches: { table: string; deleted: number; ms: number; timedOut: boolean }[] = [];
let seq = 0;

beforeAll(async () => {
  tmp = await createTempDatabase(env.MYSQL_URL, 'tally_test_retention');
  await migrateLatest(tmp.db);
  // The one success of a job that has failed ever since: kept however old (pipeline-health reads it).
  await tmp
    .db('job_runs')
    .insert({ job: 'rare-job', started_at: new Date(T0), finished_at: new Date(T0 + 1000), status: 'succeeded', items: 0 });
  oracle.add('job_runs', T0);
}, 60_000);

afterAll(async () => {
  await tmp.drop();
});

/** A day of rows, each table's spread evenly over the day. */
async function insertDay(day: number): Promise<void> {
  const start = T0 + day * DAY_MS;
  for (const [table, n] of Object.entries(PER_DAY)) {
    const rows: Record<string, unknown>[] = [];
    for (let i = 0; i < n; i++) {
      const at = start + Math.floor(((i + 0.5) * DAY_MS) / n);
      const k = seq++;
      rows.push(
        (RAW_EVENT_TABLES as readonly string[]).includes(table)
          ? rawRow(table as (typeof RAW_EVENT_TABLES)[number], k, at)
          : OTHER_TABLES[table as OtherTable].row(k, at),
      );
      oracle.add(table, at);
    }
    await insertRows(tmp.db, table, rows);
  }
}

async function checkDay(now: Date, sizes: Map<string, number[]>, monthEnd: boolean): Promise<void> {
  for (const rule of rules) {
    const cutoff = cutoffFor(rule, now);
    const { n, old } = await countRows(tmp.db, rule.table, TIME_COLUMN[rule.table as keyof typeof TIME_COLUMN], cutoff);
    // job_runs keeps the latest success per job however old: rare-job's from day 0.
    const kept = rule.table === 'job_runs' && T0 < cutoff.getTime() ? 1 : 0;
    expect({ table: rule.table, day: now.toISOString(), old }).toEqual({ table: rule.table, day: now.toISOString(), old: kept });
    expect({ table: rule.table, day: now.toISOString(), n }).toEqual({
      table: rule.table,
      day: now.toISOString(),
      n: oracle.keptFrom(rule.table, cutoff.getTime()) + kept,
    });
    if (monthEnd) sizes.set(rule.table, [...(sizes.get(rule.table) ?? []), n]);
  }
}

describe('retention over six simulated months', () => {
  it('keeps every table flat at its retention share, removes nothing inside it, never holds a lock near the bound', async () => {
    const sizes = new Map<string, number[]>();
    const t0 = performance.now();
    let pruneMs = 0;
    let deleted = 0;
    for (let day = 0; day < DAYS; day++) {
      await insertDay(day);
      const now = new Date(T0 + (day + 1) * DAY_MS);
      const p0 = performance.now();
      const out = await runRetention(
        {
          sink: new RetentionSink(tmp.db),
          rules,
          now: () => now,
          options: {
            maxRows: config.RETENTION_BATCH_ROWS,
            maxLockMs: config.RETENTION_MAX_LOCK,
            pauseMs: 0,
            sleep: async () => undefined,
            onBatch: (b) => batches.push(b),
          },
        },
        { logger: silentLogger, signal: new AbortController().signal },
      );
      pruneMs += performance.now() - p0;
      deleted += out.items;
      expect(out.tables.filter((t) => t.gaveUp)).toEqual([]);
      await checkDay(now, sizes, (day + 1) % 30 === 0);
    }

    // Flat after the warm-up: a raw log holds exactly its 90 days from month 3 on, applied ids their 8.
    const perTable = (table: string) => sizes.get(table)!;
    for (const t of RAW_EVENT_TABLES) expect(perTable(t).slice(2)).toEqual([90, 90, 90, 90].map((d) => d * PER_DAY[t]!));
    expect(perTable('view_events').slice(0, 2)).toEqual([30 * 1500, 60 * 1500]);
    expect(new Set(perTable('history_applied_events'))).toEqual(new Set([8 * 400]));
    expect(new Set(perTable('dead_letter_requeues').slice(1))).toEqual(new Set([31 * 4]));
    expect(new Set(perTable('dead_letters').slice(2))).toEqual(new Set([90 * 10]));
    expect(new Set(perTable('flush_ledger'))).toEqual(new Set([30 * 288]));
    expect(new Set(perTable('job_runs'))).toEqual(new Set([30 * 48 + 1]));

    const timedOut = batches.filter((b) => b.timedOut).length;
    const maxMs = Math.max(...batches.map((b) => b.ms));
    expect(timedOut).toBe(0);
    expect(maxMs).toBeLessThan(config.RETENTION_MAX_LOCK);
    const report = {
      days: DAYS,
      deleted,
      batches: batches.length,
      maxBatchMs: +maxMs.toFixed(1),
      p99BatchMs: +[...batches]
        .map((b) => b.ms)
        .sort((a, b) => a - b)
        .at(Math.floor(batches.length * 0.99))!
        .toFixed(1),
      prunedRowsPerSecond: Math.round(deleted / (pruneMs / 1000)),
      wallSeconds: Math.round((performance.now() - t0) / 1000),
      monthEndSizes: Object.fromEntries([...sizes].map(([t, v]) => [t, v.join(' ')])),
    };
    process.stdout.write(`retention over ${DAYS} simulated days: ${JSON.stringify(report, null, 1)}\n`);
  }, 900_000);

  it('every batch reads its table through an index on the time column, in index order (no filesort, no scan)', async () => {
    const index: Record<string, string> = {
      ...Object.fromEntries(RAW_EVENT_TABLES.map((t) => [t, `${t}_received_idx`])),
      history_applied_events: 'history_applied_events_applied_idx',
      dead_letter_requeues: 'dead_letter_requeues_requeued_idx',
      dead_letters: 'dead_letters_failed_idx',
      flush_ledger: 'flush_ledger_applied_idx',
      job_runs: 'job_runs_started_idx',
    };
    // At the last simulated day's clock, as the last run saw the tables (a cut-off past every row would
    // rightly make a small table a full scan: every row matches).
    const now = new Date(T0 + DAYS * DAY_MS);
    for (const rule of rules) {
      const order = [rule.timeColumn, ...rule.keyColumns].map(() => '??').join(', ');
      const keep = rule.keepLatestSuccessPerJob ? ' AND id NOT IN (1, 2)' : '';
      const [rows] = (await tmp.db.raw(`EXPLAIN DELETE FROM ?? WHERE ?? < ?${keep} ORDER BY ${order} LIMIT 1000`, [
        rule.table,
        rule.timeColumn,
        cutoffFor(rule, now),
        rule.timeColumn,
        ...rule.keyColumns,
      ])) as [{ key: string | null; Extra: string }[]];
      expect({ table: rule.table, key: rows[0]!.key, filesort: /filesort/i.test(rows[0]!.Extra) }).toEqual({
        table: rule.table,
        key: index[rule.table],
        filesort: false,
      });
    }
  });
});
