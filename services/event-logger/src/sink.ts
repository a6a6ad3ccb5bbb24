import type { Knex } from 'knex';
import type { TallyEvent } from '@tally/events';
import type { BatchOutcome, PartitionBatch } from '@tally/kafka';
import { errorCode, errorMessage, type Logger, type ServiceMetrics } from '@tally/runtime';
import { rowsByTable, TABLE_COLUMNS, type RawLogTable, type RawRow, type SqlValue } from './handler';

/** Rows per INSERT statement: ~11 columns × 1,000 rows stays far below max_allowed_packet (16 MB) with 512-char user agents. */
export const MAX_ROWS_PER_STATEMENT = 1_000;
// kafkajs heartbeats only between batches; a statement blocked on a lock (LOCK TABLES, a long
// metadata lock) would otherwise get us kicked out of the group after the 30 s session timeout.
const HEARTBEAT_EVERY_MS = 3_000;

/** `INSERT IGNORE INTO t (cols) VALUES (?,…),(?,…)` with its bindings, columns in the table's fixed order. */
export function insertIgnore(table: RawLogTable, rows: readonly RawRow[]): { sql: string; bindings: SqlValue[] } {
  const columns = TABLE_COLUMNS[table];
  const tuple = `(${columns.map(() => '?').join(',')})`;
  const bindings: SqlValue[] = [];
  for (const row of rows) for (const c of columns) bindings.push(row[c] ?? null);
  const sql = `INSERT IGNORE INTO \`${table}\` (${columns.map((c) => `\`${c}\``).join(',')}) VALUES ${rows.map(() => tuple).join(',')}`;
  return { sql, bindings };
}

export interface WriteReport {
  inserted: number;
  /** Rows whose event_id was already logged: a replay or a client retry of the same event. */
  ignored: number;
}

/**
 * Writes one chunk of a partition's events into the raw logs: one MySQL transaction, one multi-row
 * INSERT IGNORE per table per 1,000 rows. The unique event_id makes a replayed chunk add nothing,
 * so committing the Kafka offset after the MySQL commit is exactly-once for the logs (invariant I1
 * of docs/exactly-once.md).
 */
export class RawLogSink {
  private readonly inserted;
  private readonly log: Logger;

  constructor(
    private readonly db: Knex,
    logger: Logger,
    metrics: ServiceMetrics,
  ) {
    this.log = logger.child({ component: 'sink' });
    this.inserted = metrics.counter('raw_log_rows_inserted_total', 'Rows written to the raw event logs (duplicates excluded)', ['table']);
  }

  async write(events: readonly TallyEvent[]): Promise<WriteReport> {
    const byTable = rowsByTable(events);
    const report: WriteReport = { inserted: 0, ignored: 0 };
    const perTable = new Map<RawLogTable, number>();
    await this.db.transaction(async (trx) => {
      for (const [table, rows] of byTable) {
        for (let i = 0; i < rows.length; i += MAX_ROWS_PER_STATEMENT) {
          const slice = rows.slice(i, i + MAX_ROWS_PER_STATEMENT);
          const { sql, bindings } = insertIgnore(table, slice);
          const { affected, warnings } = resultHeader(await trx.raw(sql, bindings));
          // IGNORE also turns data errors into warnings (a truncated value); each duplicate is one
          // warning too, so more warnings than duplicates means a row was altered to fit.
          if (warnings > slice.length - affected)
            this.log.error({ table, warnings, duplicates: slice.length - affected }, 'MySQL altered values to fit the raw log columns');
          perTable.set(table, (perTable.get(table) ?? 0) + affected);
          report.inserted += affected;
          report.ignored += slice.length - affected;
        }
      }
    });
    // Counted after the commit only: a rolled-back attempt inserted nothing.
    for (const [table, n] of perTable) this.inserted.inc({ table }, n);
    return report;
  }

  /** The runner's handler: every MySQL error is transient to us (the domain rules already made rows fit the columns). */
  async handle(batch: PartitionBatch<TallyEvent>): Promise<BatchOutcome> {
    const ticker = setInterval(() => void batch.heartbeat().catch(() => undefined), HEARTBEAT_EVERY_MS);
    try {
      const { ignored } = await this.write(batch.messages.map((m) => m.value));
      if (ignored > 0) batch.reportReprocessed(ignored);
      return { kind: 'done' };
    } catch (error) {
      this.log.warn(
        { topic: batch.topic, partition: batch.partition, code: errorCode(error), err: errorMessage(error) },
        'raw log write failed; will retry',
      );
      return { kind: 'retry', error };
    } finally {
      clearInterval(ticker);
    }
  }
}

/** mysql2 answers a raw INSERT with [ResultSetHeader, fields]. */
function resultHeader(result: unknown): { affected: number; warnings: number } {
  const header = (Array.isArray(result) ? result[0] : result) as { affectedRows?: unknown; warningStatus?: unknown } | null;
  if (typeof header?.affectedRows !== 'number') throw new Error('INSERT returned no affectedRows');
  return { affected: header.affectedRows, warnings: typeof header.warningStatus === 'number' ? header.warningStatus : 0 };
}
