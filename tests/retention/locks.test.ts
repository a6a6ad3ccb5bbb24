import { createMysql } from '@tally/clients';
import { createTempDatabase, migrateLatest, type TempDatabase } from '@tally/db';
import type { Knex } from 'knex';
import { loadRetentionConfig } from '../../services/retention/src/config';
import type { RetentionRule } from '../../services/retention/src/handler';
import { RetentionSink, type BatchReport, type TableResult } from '../../services/retention/src/sink';
import { env } from '../helpers/env';
import { countRows, DAY_MS, insertRows, rawRow } from './support';

// The pruner against a writer on the same table, on a real MariaDB: the event-logger's 100-row
// INSERTs of new events never wait longer than RETENTION_MAX_LOCK while 200,000 old rows are pruned
// (READ COMMITTED: the DELETE locks only the rows it deletes, no gaps, and a writer never touches
// those); and a batch that would run past the bound is killed by the server and retried smaller.
const OLD_ROWS = 200_000;
const RULE: RetentionRule = { table: 'view_events', timeColumn: 'received_at', keyColumns: ['id'], keepMs: 90 * DAY_MS, why: 'test' };
const config = loadRetentionConfig({});
let tmp: TempDatabase;
let writerDb: Knex;

async function fillOld(n: number): Promise<void> {
  const start = Date.now() - 200 * DAY_MS;
  const rows: Record<string, unknown>[] = [];
  for (let i = 0; i < n; i++) rows.push(rawRow('view_events', i, start + i * 1000));
  await insertRows(tmp.db, 'view_events', rows);
}

const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * q))]!;

beforeAll(async () => {
  tmp = await createTempDatabase(env.MYSQL_URL, 'tally_test_retention_locks');
  await migrateLatest(tmp.db);
  // The writer's own pool, as the event-logger process has.
  writerDb = createMysql({ url: tmp.url, poolMax: 2 });
}, 60_000);

afterAll(async () => {
  await writerDb.destroy();
  await tmp.drop();
});

describe('the pruner and concurrent writers', () => {
  it(`a writer inserting into the table being pruned never waits longer than RETENTION_MAX_LOCK (${config.RETENTION_MAX_LOCK} ms)`, async () => {
    await fillOld(OLD_ROWS);
    const waits: number[] = [];
    let stop = false;
    let i = OLD_ROWS;
    // 100-row multi-row INSERTs of events received now, back to back, as the event-logger writes a chunk.
    const writer = (async () => {
      while (!stop) {
        const rows = Array.from({ length: 100 }, () => rawRow('view_events', i++, Date.now()));
        const t = performance.now();
        await writerDb('view_events').insert(rows);
        waits.push(performance.now() - t);
      }
    })();
    const batches: BatchReport[] = [];
    const t0 = performance.now();
    let r: TableResult;
    try {
      // Short pauses so the run overlaps many writes; production pauses RETENTION_BATCH_PAUSE (100 ms).
      r = await new RetentionSink(tmp.db).prune(RULE, new Date(), {
        maxRows: config.RETENTION_BATCH_ROWS,
        maxLockMs: config.RETENTION_MAX_LOCK,
        pauseMs: 10,
        onBatch: (b) => batches.push(b),
      });
    } finally {
      stop = true;
      await writer;
    }
    const seconds = (performance.now() - t0) / 1000;
    expect(r.deleted).toBe(OLD_ROWS);
    expect(await countRows(tmp.db, 'view_events', 'received_at', new Date(Date.now() - RULE.keepMs))).toEqual({ n: i - OLD_ROWS, old: 0 });
    const done = batches.filter((b) => !b.timedOut);
    expect(Math.max(...waits)).toBeLessThan(config.RETENTION_MAX_LOCK);
    expect(Math.max(...done.map((b) => b.ms))).toBeLessThan(config.RETENTION_MAX_LOCK);
    const batchMs = done.map((b) => b.ms);
    process.stdout.write(
      `pruner vs writer: ${JSON.stringify({
        deleted: r.deleted,
        batches: r.batches,
        seconds: +seconds.toFixed(1),
        rowsPerSecond: Math.round(r.deleted / seconds),
        batchMs: {
          p50: +quantile(batchMs, 0.5).toFixed(1),
          p99: +quantile(batchMs, 0.99).toFixed(1),
          max: +Math.max(...batchMs).toFixed(1),
        },
        statementMsMax: +r.maxStatementMs.toFixed(1),
        killedAtBound: batches.filter((b) => b.timedOut).map((b) => Math.round(b.ms)),
        writerInserts: waits.length,
        writerMs: { p50: +quantile(waits, 0.5).toFixed(1), p99: +quantile(waits, 0.99).toFixed(1), max: +Math.max(...waits).toFixed(1) },
      })}\n`,
    );
  }, 300_000);

  it('a batch over the bound is killed by MariaDB (max_statement_time), rolled back, and retried smaller until all is pruned', async () => {
    await fillOld(60_000);
    const maxLockMs = 40;
    const seen: BatchReport[] = [];
    const r = await new RetentionSink(tmp.db).prune(RULE, new Date(), {
      maxRows: 50_000,
      maxLockMs,
      pauseMs: 0,
      onBatch: (b) => seen.push(b),
    });
    expect(r.timeouts).toBeGreaterThan(0);
    expect(r.deleted).toBe(60_000);
    expect((await countRows(tmp.db, 'view_events', 'received_at', new Date(Date.now() - RULE.keepMs))).old).toBe(0);
    // The server lets no DELETE statement run past the bound; a killed one holds its locks for the bound
    // plus its rollback, a completed one for the statement plus its COMMIT (a log flush).
    const done = seen.filter((b) => !b.timedOut);
    const killed = seen.filter((b) => b.timedOut);
    // Timed here, so the server's bound plus a round trip and this process's event-loop delay (≤ 30 ms on a loaded 2-core box).
    expect(Math.max(...done.map((b) => b.statementMs))).toBeLessThan(maxLockMs + 30);
    process.stdout.write(
      `hard bound ${maxLockMs} ms: ${JSON.stringify({
        batches: done.length,
        killed: killed.length,
        killedMs: killed.map((b) => Math.round(b.ms)),
        maxStatementMs: +Math.max(...done.map((b) => b.statementMs)).toFixed(1),
        maxBatchMs: +Math.max(...done.map((b) => b.ms)).toFixed(1),
        rowsPerBatch: Math.round(r.deleted / done.length),
      })}\n`,
    );
  }, 300_000);
  it('a long transaction holding an old row makes the pruner give way, not hang: it leaves the table for the next run', async () => {
    await fillOld(3000);
    const holder = await writerDb.transaction();
    try {
      await holder('view_events')
        .where('received_at', '<', new Date(Date.now() - RULE.keepMs))
        .orderBy('received_at')
        .limit(1)
        .forUpdate()
        .select('id');
      const t0 = performance.now();
      const r = await new RetentionSink(tmp.db).prune(RULE, new Date(), { maxRows: 1000, maxLockMs: 1000, pauseMs: 0 });
      // Each try waits at most the bound (1 s: MariaDB kills the statement, MySQL's lock wait times out),
      // smaller batches are tried, then the table is left: 1,000 → 250 → 62 → 15 → 10 ×3 rows, ~7 s.
      expect(r).toMatchObject({ deleted: 0, gaveUp: expect.stringMatching(/row locked by another transaction|lock waits/) });
      expect(performance.now() - t0).toBeLessThan(7 * 1000 + 3000);
    } finally {
      await holder.rollback();
    }
    expect((await new RetentionSink(tmp.db).prune(RULE, new Date(), { maxRows: 1000, maxLockMs: 1000, pauseMs: 0 })).deleted).toBe(3000);
  }, 60_000);
});
