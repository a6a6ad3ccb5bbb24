import type { Logger, ServiceMetrics } from '@tally/runtime';
import type { JobContext, JobResult } from '@tally/jobs';
import type { RetentionRule } from './handler';
import type { PruneOptions, RetentionSink, TableResult } from './sink';

export interface RetentionRunDeps {
  sink: RetentionSink;
  rules: readonly RetentionRule[];
  options: Omit<PruneOptions, 'signal'>;
  /** The clock the cut-offs are computed from: Date.now in production, simulated days in tests. */
  now: () => Date;
}

/** Metric hooks for the pruner: rows deleted and each batch's duration per table. */
export function retentionMetrics(metrics: ServiceMetrics): {
  onBatch: NonNullable<PruneOptions['onBatch']>;
  record: (r: TableResult) => void;
} {
  const deleted = metrics.counter('retention_rows_deleted_total', 'Rows deleted past their retention, per table', ['table']);
  const batch = metrics.histogram(
    'retention_batch_duration_seconds',
    'Duration of one DELETE batch, BEGIN to COMMIT: how long its row locks were held',
    ['table'],
    [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  );
  const cutoff = metrics.gauge('retention_cutoff_timestamp_seconds', 'Unix time before which the last run deleted rows, per table', [
    'table',
  ]);
  const gaveUp = metrics.counter(
    'retention_tables_left_total',
    'Tables a run left for the next one (lock waits, or batches that could not get under RETENTION_MAX_LOCK)',
    ['table'],
  );
  return {
    onBatch: (b) => {
      deleted.inc({ table: b.table }, b.deleted);
      batch.observe({ table: b.table }, b.ms / 1000);
    },
    record: (r) => {
      cutoff.set({ table: r.table }, r.cutoff.getTime() / 1000);
      if (r.gaveUp) gaveUp.inc({ table: r.table });
    },
  };
}

/** One run: every rule at one `now`, table after table (never two DELETEs at once). */
export async function runRetention(
  deps: RetentionRunDeps,
  ctx: Pick<JobContext, 'logger' | 'signal'>,
  record?: (r: TableResult) => void,
): Promise<JobResult & { tables: TableResult[] }> {
  const now = deps.now();
  const tables: TableResult[] = [];
  for (const rule of deps.rules) {
    if (ctx.signal.aborted) break;
    const r = await deps.sink.prune(rule, now, { ...deps.options, signal: ctx.signal });
    tables.push(r);
    record?.(r);
    log(ctx.logger, rule, r);
  }
  const items = tables.reduce((n, t) => n + t.deleted, 0);
  const maxBatchMs = Math.max(0, ...tables.map((t) => t.maxBatchMs));
  return {
    items,
    tables,
    summary: {
      deleted: Object.fromEntries(tables.filter((t) => t.deleted > 0).map((t) => [t.table, t.deleted])),
      maxBatchMs: Math.round(maxBatchMs),
    },
  };
}

function log(logger: Logger, rule: RetentionRule, r: TableResult): void {
  const fields = {
    table: r.table,
    cutoff: r.cutoff.toISOString(),
    why: rule.why,
    deleted: r.deleted,
    batches: r.batches,
    maxBatchMs: Math.round(r.maxBatchMs),
    ms: Math.round(r.totalMs),
    timeouts: r.timeouts,
  };
  if (r.gaveUp) logger.warn({ ...fields, gaveUp: r.gaveUp }, 'retention: table left for the next run');
  else if (r.deleted > 0) logger.info(fields, 'retention: rows past their retention deleted');
  else logger.debug(fields, 'retention: nothing past the cut-off');
}
