import type { JobContext, JobResult } from '@tally/jobs';
import { TallyError, type ServiceMetrics } from '@tally/runtime';
import {
  advanceWatermark,
  catalogDocument,
  compareWatermarks,
  countsUpdate,
  emptyTally,
  movieDocument,
  WATERMARK_START,
  type BulkOp,
  type CountsRow,
  type SyncTally,
} from './handler';
import { COUNT_FIELD_PATHS } from './config';
import { aliasName, CATALOG_INDICES, type CatalogIndex } from './indices';
import { isTallyHolder, type Holder } from './ownership';
import { Rebuild, type Loaders } from './rebuild';
import type { EsSink } from './sink';
import { finishRun, SyncAccounting, type Mode } from './sync-accounting';
import type { CatalogSource } from './source';
import { writtenCountFields, type SearchTarget } from './target';

export interface SyncSettings {
  prefix: string;
  target: SearchTarget;
  bulkSize: number;
  settleLagMs: number;
  replicas: number;
}

/** Where a counts run writes: the movie index's name, whether it is Tally's, how to address it. */
interface CountsTarget {
  name: string;
  tally: boolean;
  requireAlias: boolean;
}

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
 *
 * An index es-sync did not create (the web app's own, see TALLY_META) is written only in place: its
 * count fields get partial updates, nothing else in its documents changes, and a foreign actors or
 * tags index is not rewritten at all.
 */
export class EsSync {
  private readonly acc: SyncAccounting;
  private readonly names: Readonly<Record<CatalogIndex, string>>;
  private readonly rebuild: Rebuild;

  constructor(
    private readonly source: CatalogSource,
    private readonly sink: EsSink,
    private readonly settings: SyncSettings,
    metrics: ServiceMetrics,
  ) {
    this.acc = new SyncAccounting(metrics);
    this.names = Object.fromEntries(CATALOG_INDICES.map((i) => [i, aliasName(settings.prefix, i, settings.target)])) as Record<
      CatalogIndex,
      string
    >;
    const loaders: Loaders = {
      movies: (ctx, to, mode) => this.loadMovies(ctx, to, mode),
      catalog: (ctx, kind, to, mode) => this.loadCatalog(ctx, kind, to, mode, false),
    };
    this.rebuild = new Rebuild(source, sink, { ...settings, names: this.names }, loaders, async (w) => {
      await this.source.saveWatermark(this.countsWatermarkName, w);
      this.acc.watermarkAt(w.at.getTime() / 1000);
    });
  }

  private get countsWatermarkName(): string {
    return `es-sync:${this.names.jav}:counts`;
  }

  async run(ctx: JobContext): Promise<JobResult> {
    const { flags } = ctx.args;
    const mode: Mode = flags.has('init') ? 'init' : flags.has('reindex') ? 'reindex' : flags.has('full') ? 'full' : 'incremental';
    if (mode === 'reindex' || mode === 'init') return this.rebuild.run(ctx, mode);
    const [movies, actors, tags] = await this.requireIndices();
    const target = this.countsTarget(movies);
    if (!target.tally)
      ctx.logger.info({ index: target.name }, 'the movie index was not created by es-sync: only its count fields are updated, in place');
    const foreign = [actors, tags].filter((h) => !isTallyHolder(h)).map((h) => h.name);
    if (foreign.length > 0)
      ctx.logger.warn(
        { indices: foreign },
        'not created by es-sync (no _meta marker): not rewritten; `es-sync --reindex --take-over` replaces them',
      );
    const counts = mode === 'full' ? await this.full(ctx, target) : await this.incremental(ctx, target);
    const catalog = {
      actors: isTallyHolder(actors) ? await this.refreshCatalog(ctx, 'actors', mode) : this.acc.skipForeign('actors'),
      tags: isTallyHolder(tags) ? await this.refreshCatalog(ctx, 'tags', mode) : this.acc.skipForeign('tags'),
    };
    return finishRun(ctx.logger, mode, counts, catalog, { moviesIndex: target.tally ? 'tally' : 'foreign', foreignSkipped: foreign });
  }

  /** The three names must exist (Tally's or the app's); counts go only to fields the movie index maps. */
  private async requireIndices(): Promise<[Holder, Holder, Holder]> {
    const holders = await Promise.all([
      this.sink.holder(this.names.jav),
      this.sink.holder(this.names.actors),
      this.sink.holder(this.names.tags),
    ] as const);
    const missing = holders.filter((h) => h.kind === 'none').map((h) => h.name);
    if (missing.length > 0) {
      throw new TallyError(
        'ES_SYNC_INDEX_MISSING',
        `no Elasticsearch index or alias ${missing.join(', ')}: run \`es-sync --reindex\` once to build the indices (or \`es-sync --init\`, which builds only the missing ones)`,
      );
    }
    const movies = holders[0];
    for (const [count, field] of writtenCountFields(this.settings.target.movies.countFields)) {
      const without = movies.kind === 'none' ? [] : movies.indices.filter((i) => !i.fields.includes(field)).map((i) => i.name);
      if (without.length === 0) continue;
      const fix = isTallyHolder(movies) ? 'or rebuild the index with `es-sync --reindex`' : `or null to not write ${count}`;
      throw new TallyError(
        'ES_SYNC_COUNT_FIELD_UNMAPPED',
        `${movies.name} (${without.join(', ')}) has no field "${field}" for ${count}: set ${COUNT_FIELD_PATHS[count]} in CATALOG_MAPPING to the field it has, ${fix}`,
      );
    }
    return holders;
  }

  private countsTarget(movies: Holder): CountsTarget {
    return { name: movies.name, tally: isTallyHolder(movies), requireAlias: movies.kind === 'alias' };
  }

  /** Rows whose counts changed since the watermark, in key order; the watermark follows per page. */
  private async incremental(ctx: JobContext, target: CountsTarget): Promise<SyncTally> {
    const cutoff = new Date((await this.source.now()).getTime() - this.settings.settleLagMs);
    let watermark = (await this.source.watermark(this.countsWatermarkName)) ?? WATERMARK_START;
    this.acc.watermarkAt(watermark.at.getTime() / 1000);
    let blocked = false;
    let after = watermark;
    const tally = await this.pages(
      ctx,
      target,
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
          this.acc.watermarkAt(watermark.at.getTime() / 1000);
        }
      },
    );
    ctx.logger.info({ watermark, blocked, cutoff }, 'counts watermark');
    return tally;
  }

  /** Every row by id. The watermark moves to the run's cutoff only if every row made it. */
  private async full(ctx: JobContext, target: CountsTarget): Promise<SyncTally> {
    const cutoff = new Date((await this.source.now()).getTime() - this.settings.settleLagMs);
    let afterId = 0;
    const tally = await this.pages(
      ctx,
      target,
      'full',
      () => this.source.countsById(afterId, this.settings.bulkSize),
      (page) => (afterId = page[page.length - 1]!.id),
      async () => undefined,
    );
    const current = (await this.source.watermark(this.countsWatermarkName)) ?? WATERMARK_START;
    const reached = { at: cutoff, id: 0 };
    if (tally.failed.size === 0 && !ctx.signal.aborted && compareWatermarks(reached, current) > 0) {
      await this.source.saveWatermark(this.countsWatermarkName, reached);
      this.acc.watermarkAt(cutoff.getTime() / 1000);
    }
    return tally;
  }

  /**
   * Reads page n+1 from MySQL while page n's _bulk is in flight: never two bulks at once, so two
   * updates of one movie (read twice in one run because its counts changed meanwhile) land in order.
   */
  private async pages(
    ctx: JobContext,
    target: CountsTarget,
    mode: Mode,
    read: () => Promise<CountsRow[]>,
    moveCursor: (page: CountsRow[]) => void,
    settle: (page: CountsRow[], failed: ReadonlySet<number>) => Promise<void>,
  ): Promise<SyncTally> {
    const tally = emptyTally();
    const fields = this.settings.target.movies.countFields;
    let page = await read();
    while (page.length > 0 && !ctx.signal.aborted) {
      moveCursor(page);
      const next = page.length === this.settings.bulkSize ? read() : Promise.resolve([]);
      next.catch(() => undefined); // awaited below; a rejection while the bulk fails must not go unhandled
      // A foreign index gets its count fields only: no counts_updated_at it does not have.
      const ops = page.map((row) => countsUpdate(row, fields, target.tally));
      const result = await this.sink.bulk(target.name, ops, { requireAlias: target.requireAlias });
      this.acc.account(tally, result, 'jav', mode);
      await settle(page, new Set(result.failed.keys()));
      page = await next;
    }
    return tally;
  }

  /** Rewrites every actor or tag document, then deletes those whose row is gone (only if all were written). */
  private async refreshCatalog(ctx: JobContext, kind: 'actors' | 'tags', mode: Mode): Promise<SyncTally> {
    const alias = this.names[kind];
    const tally = await this.loadCatalog(ctx, kind, alias, mode, true);
    if (tally.failed.size === 0 && !ctx.signal.aborted) {
      const deleted = await this.sink.deleteStale(alias, ctx.runId);
      if (deleted > 0) ctx.logger.info({ index: alias, deleted }, 'deleted documents of rows gone from MySQL');
    }
    return tally;
  }

  private async loadCatalog(
    ctx: JobContext,
    kind: 'actors' | 'tags',
    target: string,
    mode: Mode,
    requireAlias: boolean,
  ): Promise<SyncTally> {
    const tally = emptyTally();
    let afterId = 0;
    for (;;) {
      if (ctx.signal.aborted) break;
      const rows = await this.source.catalog(kind, afterId, this.settings.bulkSize);
      if (rows.length === 0) break;
      afterId = rows[rows.length - 1]!.id;
      this.acc.account(
        tally,
        await this.sink.bulk(
          target,
          rows.map((r) => catalogDocument(r, ctx.runId)),
          { requireAlias },
        ),
        kind,
        mode,
      );
      if (rows.length < this.settings.bulkSize) break;
    }
    return tally;
  }

  private async loadMovies(ctx: JobContext, target: string, mode: Mode): Promise<SyncTally> {
    const tally = emptyTally();
    let afterId = 0;
    let page = await this.source.movies(afterId, this.settings.bulkSize);
    while (page.length > 0 && !ctx.signal.aborted) {
      afterId = page[page.length - 1]!.row.id;
      const next = page.length === this.settings.bulkSize ? this.source.movies(afterId, this.settings.bulkSize) : Promise.resolve([]);
      next.catch(() => undefined);
      const ops: BulkOp[] = page.map((m) => movieDocument(m.row, m.actors, m.tags, this.settings.target.movies.countFields));
      this.acc.account(tally, await this.sink.bulk(target, ops, { requireAlias: false }), 'jav', mode);
      page = await next;
    }
    return tally;
  }
}
