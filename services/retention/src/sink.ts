import type { Knex } from 'knex';
import { cutoffFor, MIN_BATCH_ROWS, nextBatchRows, tableDone, type BatchBounds, type RetentionRule } from './handler';

/** What one table's pruning did in one run. */
export interface TableResult {
  table: string;
  cutoff: Date;
  deleted: number;
  batches: number;
  /** The longest batch, BEGIN to COMMIT (or to the end of the rollback of one killed at the bound): the longest any row lock of this table was held. */
  maxBatchMs: number;
  /** The longest DELETE statement of a completed batch. */
  maxStatementMs: number;
  totalMs: number;
  /** Batches the server killed at RETENTION_MAX_LOCK (rolled back, retried smaller). */
  timeouts: number;
  /** Set when the table was left for the next run (lock waits, or batches that could not get under the bound). */
  gaveUp?: string;
}

export interface BatchReport {
  table: string;
  deleted: number;
  /** BEGIN to COMMIT: how long the batch's row locks were held. */
  ms: number;
  /** The DELETE statement alone (what MariaDB's max_statement_time bounds); the rest is BEGIN and the COMMIT's log flush. */
  statementMs: number;
  /** Killed at RETENTION_MAX_LOCK and rolled back. */
  timedOut: boolean;
}

export interface PruneOptions extends BatchBounds {
  pauseMs: number;
  signal?: AbortSignal;
  /** Injected in tests (no real pauses over six simulated months). */
  sleep?: (ms: number) => Promise<void>;
  /** Each batch as it finished: metrics, and the lock-bound test. */
  onBatch?: (b: BatchReport) => void;
}

// MariaDB: ER_STATEMENT_TIMEOUT (max_statement_time hit). Both: ER_LOCK_WAIT_TIMEOUT, ER_LOCK_DEADLOCK.
const STATEMENT_TIMEOUT = 1969;
const LOCK_CONFLICTS = new Set([1205, 1213]);
const MAX_CONFLICTS = 5;

const errno = (err: unknown): number | undefined => (err as { errno?: number }).errno;
const realSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Deletes what is past each rule's cut-off in small batches that never hold long locks:
 *   `DELETE FROM t WHERE <time> < ? ORDER BY <time>, <key> LIMIT n`, each in its own short READ
 *   COMMITTED transaction (no gap locks: writers inserting new rows never wait on the pruner), read
 *   from the start of the time index, so a batch touches exactly the rows it deletes; a pause between
 *   batches; each batch timed and bounded by RETENTION_MAX_LOCK (the server kills it there on MariaDB).
 */
export class RetentionSink {
  private hardBound: boolean | undefined;

  constructor(private readonly db: Knex) {}

  async prune(rule: RetentionRule, now: Date, o: PruneOptions): Promise<TableResult> {
    const cutoff = cutoffFor(rule, now);
    const r: TableResult = { table: rule.table, cutoff, deleted: 0, batches: 0, maxBatchMs: 0, maxStatementMs: 0, totalMs: 0, timeouts: 0 };
    const sleep = o.sleep ?? realSleep;
    const keep = rule.keepLatestSuccessPerJob ? await this.latestSuccessPerJob() : [];
    const t0 = performance.now();
    let rows = o.maxRows;
    let conflicts = 0;
    let smallTimeouts = 0;
    while (!o.signal?.aborted) {
      const b0 = performance.now();
      let deleted: number;
      let statementMs: number;
      try {
        ({ deleted, statementMs } = await this.deleteBatch(rule, cutoff, rows, keep, o.maxLockMs));
      } catch (err) {
        const ms = performance.now() - b0;
        if (errno(err) === STATEMENT_TIMEOUT) {
          r.timeouts++;
          r.maxBatchMs = Math.max(r.maxBatchMs, ms);
          o.onBatch?.({ table: rule.table, deleted: 0, ms, statementMs: ms, timedOut: true });
          // On MariaDB a wait for another transaction's row lock also ends here (the lock wait timeout is whole
          // seconds, no shorter than the bound). A stall can kill even a small batch once; three in a row cannot be one.
          if (rows <= MIN_BATCH_ROWS && ++smallTimeouts >= 3) {
            r.gaveUp = `${rows}-row batches still reach RETENTION_MAX_LOCK (a row locked by another transaction, or a stalled server)`;
            break;
          }
          rows = nextBatchRows(rows, ms, o, true);
        } else if (LOCK_CONFLICTS.has(errno(err) ?? 0)) {
          if (++conflicts > MAX_CONFLICTS) {
            r.gaveUp = `${conflicts} lock waits or deadlocks in a row`;
            break;
          }
        } else {
          throw err;
        }
        await sleep(o.pauseMs);
        continue;
      }
      const ms = performance.now() - b0;
      conflicts = 0;
      smallTimeouts = 0;
      r.batches++;
      r.deleted += deleted;
      r.maxBatchMs = Math.max(r.maxBatchMs, ms);
      r.maxStatementMs = Math.max(r.maxStatementMs, statementMs);
      o.onBatch?.({ table: rule.table, deleted, ms, statementMs, timedOut: false });
      if (tableDone(deleted, rows)) break;
      rows = nextBatchRows(rows, ms, o);
      await sleep(o.pauseMs);
    }
    r.totalMs = performance.now() - t0;
    return r;
  }

  /** One batch in its own transaction: the rows deleted and how long the DELETE statement itself ran. */
  private async deleteBatch(
    rule: RetentionRule,
    cutoff: Date,
    rows: number,
    keep: readonly number[],
    maxLockMs: number,
  ): Promise<{ deleted: number; statementMs: number }> {
    const hard = await this.serverKillsAtBound();
    const order = [rule.timeColumn, ...rule.keyColumns].map(() => '??').join(', ');
    const keepSql = keep.length > 0 ? ` AND id NOT IN (${keep.map(() => '?').join(', ')})` : '';
    const sql = `DELETE FROM ?? WHERE ?? < ?${keepSql} ORDER BY ${order} LIMIT ?`;
    const bindings = [rule.table, rule.timeColumn, cutoff, ...keep, rule.timeColumn, ...rule.keyColumns, rows];
    // The pruner gives way: it never waits on a writer's lock for longer than its own bound (whole seconds).
    const waitS = Math.max(1, Math.ceil(maxLockMs / 1000));
    // max_statement_time is in seconds; the statement is rolled back when it is reached.
    const prefix = hard
      ? `SET STATEMENT max_statement_time = ${(maxLockMs / 1000).toFixed(3)}, innodb_lock_wait_timeout = ${waitS} FOR `
      : '';
    return this.db.transaction(
      async (trx) => {
        if (!hard) await trx.raw(`SET SESSION innodb_lock_wait_timeout = ${waitS}`);
        const s0 = performance.now();
        const [res] = (await trx.raw(prefix + sql, bindings)) as [{ affectedRows: number }];
        return { deleted: res.affectedRows, statementMs: performance.now() - s0 };
      },
      { isolationLevel: 'read committed' },
    );
  }

  /** MariaDB kills a DELETE at max_statement_time; MySQL has MAX_EXECUTION_TIME for SELECT only. */
  private async serverKillsAtBound(): Promise<boolean> {
    if (this.hardBound === undefined) {
      const [[row]] = (await this.db.raw('SELECT VERSION() AS v')) as [[{ v: string }]];
      this.hardBound = /mariadb/i.test(row.v);
    }
    return this.hardBound;
  }

  private async latestSuccessPerJob(): Promise<number[]> {
    const rows = (await this.db('job_runs').where({ status: 'succeeded' }).groupBy('job').max({ id: 'id' })) as { id: number }[];
    return rows.map((x) => Number(x.id));
  }
}
