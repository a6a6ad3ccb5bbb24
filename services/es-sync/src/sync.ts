import type { JobContext, JobResult } from '@tally/jobs';
import { TallyError, type Logger, type ServiceMetrics } from '@tally/runtime';
import {
  advanceWatermark, catalogDocument, compareWatermarks, countsUpdate, describeFailures, emptyTally, movieDocument, reasonLabel,
  SAMPLE_IDS, WATERMARK_START, type BulkOp, type CountsRow, type SyncTally,
} from './handler';
import { aliasName, CATALOG_INDICES, MAPPINGS, versionedIndexName, type CatalogIndex } from './indices';
import type { BulkResult, EsSink } from './sink';
import type { CatalogSource } from './source';

export interface SyncSettings {
  prefix: string;
  bulkSize: number;
  settleLagMs: number;
  replicas: number;
}

type Mode = 'incremental' | 'full' | 'reindex';

/**
 * The es-sync job: one run in one of three modes. Counts go to the jav index as partial updates
 * (incremental: rows past the watermark; --full: every row); --reindex rebuilds all three indices.
 *
 * Tags and actors are rewritten whole on every run, not tracked by a watermark: their documents
 * carry a movie count, which changes when jav_tags/jav_actors rows change, and those link tables
 * have no timestamp to walk. A full pass also picks up renames and deletions, and it is affordable
 * on an hourly schedule: 2,000 tags + 20,000 actors took 8.4 s on the 2-core dev box (bench/src/es-sync.ts,
 * "idle run"). Past ~10× that, switch to update + detect_noop and an id diff for deletions. The jav documents'
 * own actor/tag names and titles are only rewritten by --reindex (counts are what changes hourly).
 */
export class EsSync {
  private readonly synced;
  private readonly missing;
  private readonly failures;
  private readonly retries;
  private readonly watermarkGauge;

  constructor(
    private readonly source: CatalogSource,
    private readonly sink: EsSink,
    private readonly settings: SyncSettings,
    metrics: ServiceMetrics,
  ) {
    this.synced = metrics.counter('documents_synced_total', 'Documents written to Elasticsearch', ['index', 'mode']);
    this.missing = metrics.counter('documents_missing_total', 'Count updates for movies with no document in the jav index (fixed by --reindex)');
    this.failures = metrics.counter('item_failures_total', 'Bulk items still failing after the in-run retries (the watermark waits for them)', ['index', 'reason']);
    this.retries = metrics.counter('item_retries_total', 'Bulk items retried within a run after a transient failure', ['index']);
    this.watermarkGauge = metrics.gauge('counts_watermark_timestamp_seconds', 'counts_updated_at of the jav watermark (alert on its age)');
  }

  private get countsWatermarkName(): string {
    return `es-sync:${aliasName(this.settings.prefix, 'jav')}:counts`;
  }

  async run(ctx: JobContext): Promise<JobResult> {
    const mode: Mode = ctx.args.flags.has('reindex') ? 'reindex' : ctx.args.flags.has('full') ? 'full' : 'incremental';
    if (mode === 'reindex') return this.reindex(ctx);
    await this.sink.requireAliases(CATALOG_INDICES.map((i) => aliasName(this.settings.prefix, i)));
    const counts = mode === 'full' ? await this.full(ctx) : await this.incremental(ctx);
    const actors = await this.refreshCatalog(ctx, 'actors', mode);
    const tags = await this.refreshCatalog(ctx, 'tags', mode);
    return this.finish(ctx.logger, mode, counts, { actors, tags });
  }

  /** Rows whose counts changed since the watermark, in key order; the watermark follows per page. */
  private async incremental(ctx: JobContext): Promise<SyncTally> {
    const cutoff = new Date((await this.source.now()).getTime() - this.settings.settleLagMs);
    let watermark = (await this.source.watermark(this.countsWatermarkName)) ?? WATERMARK_START;
    this.watermarkGauge.set(watermark.at.getTime() / 1000);
    let blocked = false;
    let after = watermark;
    const tally = await this.pages(
      ctx,
      'incremental',
      () => this.source.changedCounts(after, cutoff, this.settings.bulkSize),
      (page) => (after = { at: page[page.length - 1]!.counts_updated_at!, id: page[page.length - 1]!.id }),
      async (page, failed) => {
        if (blocked) return;
        const next = advanceWatermark(watermark, page, failed);
        blocked = next.blocked;
        if (compareWatermarks(next.watermark, watermark) > 0) {
          watermark = next.watermark;
          await this.source.saveWatermark(this.countsWatermarkName, watermark);
          this.watermarkGauge.set(watermark.at.getTime() / 1000);
        }
      },
    );
    ctx.logger.info({ watermark, blocked, cutoff }, 'counts watermark');
    return tally;
  }

  /** Every row by id. The watermark moves to the run's cutoff only if every row made it. */
  private async full(ctx: JobContext): Promise<SyncTally> {
    const cutoff = new Date((await this.source.now()).getTime() - this.settings.settleLagMs);
    let afterId = 0;
    const tally = await this.pages(
      ctx,
      'full',
      () => this.source.countsById(afterId, this.settings.bulkSize),
      (page) => (afterId = page[page.length - 1]!.id),
      async () => undefined,
    );
    const current = (await this.source.watermark(this.countsWatermarkName)) ?? WATERMARK_START;
    const reached = { at: cutoff, id: 0 };
    if (tally.failed.size === 0 && !ctx.signal.aborted && compareWatermarks(reached, current) > 0) {
      await this.source.saveWatermark(this.countsWatermarkName, reached);
      this.watermarkGauge.set(cutoff.getTime() / 1000);
    }
    return tally;
  }

  /**
   * Reads page n+1 from MySQL while page n's _bulk is in flight: never two bulks at once, so two
   * updates of one movie (read twice in one run because its counts changed meanwhile) land in order.
   */
  private async pages(
    ctx: JobContext,
    mode: Mode,
    read: () => Promise<CountsRow[]>,
    moveCursor: (page: CountsRow[]) => void,
    settle: (page: CountsRow[], failed: ReadonlySet<number>) => Promise<void>,
  ): Promise<SyncTally> {
    const tally = emptyTally();
    const alias = aliasName(this.settings.prefix, 'jav');
    let page = await read();
    while (page.length > 0 && !ctx.signal.aborted) {
      moveCursor(page);
      const next = page.length === this.settings.bulkSize ? read() : Promise.resolve([]);
      next.catch(() => undefined); // awaited below; a rejection while the bulk fails must not go unhandled
      const result = await this.sink.bulk(alias, page.map(countsUpdate), { requireAlias: true });
      this.account(tally, result, 'jav', mode);
      await settle(page, new Set(result.failed.keys()));
      page = await next;
    }
    return tally;
  }

  private account(tally: SyncTally, r: BulkResult, index: CatalogIndex, mode: Mode): void {
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

  /** Rewrites every actor or tag document, then deletes those whose row is gone (only if all were written). */
  private async refreshCatalog(ctx: JobContext, kind: 'actors' | 'tags', mode: Mode): Promise<SyncTally> {
    const alias = aliasName(this.settings.prefix, kind);
    const tally = await this.loadCatalog(ctx, kind, alias, mode, true);
    if (tally.failed.size === 0 && !ctx.signal.aborted) {
      const deleted = await this.sink.deleteStale(alias, ctx.runId);
      if (deleted > 0) ctx.logger.info({ index: alias, deleted }, 'deleted documents of rows gone from MySQL');
    }
    return tally;
  }

  private async loadCatalog(ctx: JobContext, kind: 'actors' | 'tags', target: string, mode: Mode, requireAlias: boolean): Promise<SyncTally> {
    const tally = emptyTally();
    let afterId = 0;
    for (;;) {
      if (ctx.signal.aborted) break;
      const rows = await this.source.catalog(kind, afterId, this.settings.bulkSize);
      if (rows.length === 0) break;
      afterId = rows[rows.length - 1]!.id;
      this.account(tally, await this.sink.bulk(target, rows.map((r) => catalogDocument(r, ctx.runId)), { requireAlias }), kind, mode);
      if (rows.length < this.settings.bulkSize) break;
    }
    return tally;
  }

  /**
   * Builds new versioned indices from MySQL and swaps all three aliases at once. Until the swap,
   * readers keep the old indices; a failed build deletes only what it created. The counts watermark
   * is then set to the build's start (less the settle lag): rows stamped since are resent by the
   * next incremental run, as their new counts may have been read before or after the change.
   */
  private async reindex(ctx: JobContext): Promise<JobResult> {
    const started = await this.source.now();
    const built = CATALOG_INDICES.map((index) => ({ index, alias: aliasName(this.settings.prefix, index), name: versionedIndexName(this.settings.prefix, index, started) }));
    const created: string[] = [];
    let swapped = false;
    try {
      for (const b of built) {
        await this.sink.createIndex(b.name, MAPPINGS[b.index]);
        created.push(b.name);
      }
      const movies = await this.loadMovies(ctx, built[0]!.name);
      const actors = await this.loadCatalog(ctx, 'actors', built[1]!.name, 'reindex', false);
      const tags = await this.loadCatalog(ctx, 'tags', built[2]!.name, 'reindex', false);
      const failed = new Map([...movies.failed, ...actors.failed, ...tags.failed]);
      if (ctx.signal.aborted) throw new TallyError('ES_SYNC_STOPPED', 'reindex stopped before it finished; the aliases were not moved', { retriable: true });
      if (failed.size > 0) throw new TallyError('ES_SYNC_ITEMS_FAILED', `reindex not swapped in: ${describeFailures(failed)}`, { retriable: true });
      for (const b of built) await this.sink.finishLoad(b.name, this.settings.replicas);
      const retired = await this.sink.swapAliases(built.map((b) => ({ alias: b.alias, index: b.name })), () => (swapped = true));
      const watermark = { at: new Date(started.getTime() - this.settings.settleLagMs), id: 0 };
      await this.source.saveWatermark(this.countsWatermarkName, watermark);
      this.watermarkGauge.set(watermark.at.getTime() / 1000);
      const summary = { mode: 'reindex', indices: built.map((b) => b.name), retired, movies: movies.synced, actors: actors.synced, tags: tags.synced };
      return { items: movies.synced + actors.synced + tags.synced, summary };
    } catch (err) {
      // Once the aliases point at the new indices they are the live ones: never delete them.
      if (!swapped) for (const name of created) await this.sink.deleteIndex(name).catch(() => undefined);
      throw err;
    }
  }

  private async loadMovies(ctx: JobContext, target: string): Promise<SyncTally> {
    const tally = emptyTally();
    let afterId = 0;
    let page = await this.source.movies(afterId, this.settings.bulkSize);
    while (page.length > 0 && !ctx.signal.aborted) {
      afterId = page[page.length - 1]!.row.id;
      const next = page.length === this.settings.bulkSize ? this.source.movies(afterId, this.settings.bulkSize) : Promise.resolve([]);
      next.catch(() => undefined);
      const ops: BulkOp[] = page.map((m) => movieDocument(m.row, m.actors, m.tags));
      this.account(tally, await this.sink.bulk(target, ops, { requireAlias: false }), 'jav', 'reindex');
      page = await next;
    }
    return tally;
  }

  /** Reports the run; throws (the run is recorded failed, alerts fire) if any document still failed. */
  private finish(logger: Logger, mode: Mode, counts: SyncTally, catalog: Record<'actors' | 'tags', SyncTally>): JobResult {
    if (counts.missing > 0) {
      logger.warn({ missing: counts.missing, ids: counts.missingIds }, 'movies with no document in the jav index: counted, not created; run --reindex');
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
    };
    if (failed.size > 0) {
      logger.error({ ...summary, failedIds: [...failed.keys()].slice(0, SAMPLE_IDS) }, 'documents failed; the watermark stays before the first of them');
      throw new TallyError('ES_SYNC_ITEMS_FAILED', `${describeFailures(failed)} (synced ${counts.synced}, missing ${counts.missing})`, { retriable: true });
    }
    return { items: counts.synced, summary };
  }
}
