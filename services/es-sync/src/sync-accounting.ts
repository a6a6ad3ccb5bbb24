import type { JobResult } from '@tally/jobs';
import { TallyError, type Logger, type ServiceMetrics } from '@tally/runtime';
import { describeFailures, emptyTally, reasonLabel, SAMPLE_IDS, type SyncTally } from './handler';
import type { CatalogIndex } from './indices';
import type { BulkResult } from './sink';

export type Mode = 'incremental' | 'full' | 'reindex' | 'init';

/**
 * What a run did, in two places at once: the run's own tally (its summary and whether it failed)
 * and the service's metrics (what ops alert on), so the two can never tell different stories.
 */
export class SyncAccounting {
  private readonly synced;
  private readonly missing;
  private readonly failures;
  private readonly retries;
  private readonly watermarkGauge;
  private readonly foreignSkips;

  constructor(metrics: ServiceMetrics) {
    this.synced = metrics.counter('documents_synced_total', 'Documents written to Elasticsearch', ['index', 'mode']);
    this.missing = metrics.counter(
      'documents_missing_total',
      'Count updates for movies with no document in the jav index (fixed by --reindex)',
    );
    this.failures = metrics.counter(
      'es_bulk_item_failures_total',
      'Bulk items still failing after the in-run retries (the watermark waits for them)',
      ['index', 'reason'],
    );
    this.retries = metrics.counter('es_bulk_item_retries_total', 'Bulk items retried within a run after a transient failure', ['index']);
    this.watermarkGauge = metrics.gauge('counts_watermark_timestamp_seconds', 'counts_updated_at of the jav watermark (alert on its age)');
    this.foreignSkips = metrics.counter(
      'foreign_index_skips_total',
      'Runs that left an actors or tags index alone because es-sync did not create it',
      ['index'],
    );
  }

  /** Where the jav watermark stands (epoch seconds). */
  watermarkAt(seconds: number): void {
    this.watermarkGauge.set(seconds);
  }

  /** An actors or tags index es-sync did not create: left alone this run. */
  skipForeign(kind: 'actors' | 'tags'): SyncTally {
    this.foreignSkips.inc({ index: kind });
    return emptyTally();
  }

  /** One _bulk's outcome into the run's tally and the metrics. */
  account(tally: SyncTally, r: BulkResult, index: CatalogIndex, mode: Mode): void {
    tally.synced += r.ok.length;
    tally.missing += r.missing.length;
    tally.retried += r.retries;
    for (const id of r.missing) if (tally.missingIds.length < SAMPLE_IDS) tally.missingIds.push(id);
    for (const [id, reason] of r.failed) {
      tally.failed.set(id, reason);
      this.failures.inc({ index, reason: reasonLabel(reason) });
    }
    if (r.ok.length > 0) this.synced.inc({ index, mode }, r.ok.length);
    if (r.missing.length > 0) this.missing.inc(r.missing.length);
    if (r.retries > 0) this.retries.inc({ index }, r.retries);
  }
}

/** Reports the run; throws (the run is recorded failed, alerts fire) if any document still failed. */
export function finishRun(
  logger: Logger,
  mode: Mode,
  counts: SyncTally,
  catalog: Record<'actors' | 'tags', SyncTally>,
  owners: Record<string, unknown>,
): JobResult {
  if (counts.missing > 0) {
    logger.warn(
      { missing: counts.missing, ids: counts.missingIds },
      'movies with no document in the jav index: counted, not created; run --reindex',
    );
  }
  const failed = new Map([...counts.failed, ...catalog.actors.failed, ...catalog.tags.failed]);
  const summary = {
    mode,
    synced: counts.synced,
    missing: counts.missing,
    missingIds: counts.missingIds,
    retried: counts.retried + catalog.actors.retried + catalog.tags.retried,
    failed: failed.size,
    actors: catalog.actors.synced,
    tags: catalog.tags.synced,
    ...owners,
  };
  if (failed.size > 0) {
    logger.error(
      { ...summary, failedIds: [...failed.keys()].slice(0, SAMPLE_IDS) },
      'documents failed; the watermark stays before the first of them',
    );
    throw new TallyError('ES_SYNC_ITEMS_FAILED', `${describeFailures(failed)} (synced ${counts.synced}, missing ${counts.missing})`, {
      retriable: true,
    });
  }
  return { items: counts.synced, summary };
}
