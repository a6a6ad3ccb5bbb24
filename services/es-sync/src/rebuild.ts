import type { estypes } from '@elastic/elasticsearch';
import type { JobContext, JobResult } from '@tally/jobs';
import { TallyError } from '@tally/runtime';
import { describeFailures, emptyTally, type SyncTally, type Watermark } from './handler';
import { CATALOG_INDICES, mappingsFor, versionedIndexName, type CatalogIndex } from './indices';
import { planRebuild, type Holder, type RebuildMode, type RebuildStep } from './ownership';
import type { EsSink } from './sink';
import type { CatalogSource } from './source';
import type { SearchTarget } from './target';

export interface RebuildSettings {
  prefix: string;
  target: SearchTarget;
  names: Readonly<Record<CatalogIndex, string>>;
  replicas: number;
  settleLagMs: number;
}

/** The document loaders of EsSync (they share its metrics and tallies). */
export interface Loaders {
  movies(ctx: JobContext, target: string, mode: RebuildMode): Promise<SyncTally>;
  catalog(ctx: JobContext, kind: 'actors' | 'tags', target: string, mode: RebuildMode): Promise<SyncTally>;
}

type Built = RebuildStep & { built: string };

/** A write block set on a foreign index for --take-over, and what it was before. */
interface Blocked {
  name: string;
  previous: boolean | null;
  copy: string;
  /** Set once _clone succeeded: only then is `copy` ours to delete (the name could be taken). */
  cloned: boolean;
}

/**
 * --reindex and --init: builds Tally's indices from MySQL and swaps them in with one _aliases call.
 * Until the swap readers keep what they had; a failed build deletes only what it created and lifts
 * the write blocks it set. An index es-sync did not create is never deleted: --reindex refuses it,
 * --reindex --take-over keeps it (a foreign alias's indices untouched, a foreign concrete index as
 * a verified `_clone`), --init leaves every existing name alone. The counts watermark is then set to
 * the build's start (less the settle lag): rows stamped since are resent by the next incremental
 * run, as their new counts may have been read before or after the change.
 */
export class Rebuild {
  constructor(
    private readonly source: CatalogSource,
    private readonly sink: EsSink,
    private readonly settings: RebuildSettings,
    private readonly loaders: Loaders,
    private readonly saveWatermark: (w: Watermark) => Promise<void>,
  ) {}

  async run(ctx: JobContext, mode: RebuildMode): Promise<JobResult> {
    const started = await this.source.now();
    const holders = await Promise.all(
      CATALOG_INDICES.map(async (index) => ({ index, holder: await this.sink.holder(this.settings.names[index]) })),
    );
    const steps = planRebuild(holders, mode, ctx.args.flags.has('take-over'), started);
    const kept = steps.filter((s) => s.action === 'keep').map((s) => s.name);
    const todo: Built[] = steps
      .filter((s) => s.action !== 'keep')
      .map((s) => ({ ...s, built: versionedIndexName(this.settings.prefix, s.index, started, this.settings.target) }));
    if (todo.length === 0) {
      ctx.logger.info({ kept }, "init: every index already exists (Tally's or not); nothing built");
      return { items: 0, summary: { mode, created: [], kept } };
    }
    const created: string[] = [];
    const blocked: Blocked[] = [];
    let swapped = false;
    try {
      const mappings = mappingsFor(this.settings.target.movies.countFields);
      for (const b of todo) {
        await this.sink.createIndex(b.built, mappings[b.index]);
        created.push(b.built);
      }
      const tallies = await this.load(ctx, todo, mode);
      const failed = new Map([...tallies.jav.failed, ...tallies.actors.failed, ...tallies.tags.failed]);
      if (ctx.signal.aborted)
        throw new TallyError('ES_SYNC_STOPPED', `${mode} stopped before it finished; the aliases were not moved`, { retriable: true });
      if (failed.size > 0)
        throw new TallyError('ES_SYNC_ITEMS_FAILED', `${mode} not swapped in: ${describeFailures(failed)}`, { retriable: true });
      for (const b of todo) await this.sink.finishLoad(b.built, this.settings.replicas);
      await this.requireUnchanged(holders, todo);
      const actions = await this.swapActions(todo, blocked);
      await this.sink.updateAliases(actions);
      swapped = true;
      const retired = await this.afterSwap(ctx, todo, blocked);
      if (todo.some((b) => b.index === 'jav'))
        await this.saveWatermark({ at: new Date(started.getTime() - this.settings.settleLagMs), id: 0 });
      const summary = {
        mode,
        indices: todo.map((b) => b.built),
        retired,
        kept: [...kept, ...todo.flatMap((b) => (b.action === 'take-over-alias' ? b.keep : b.action === 'take-over-index' ? [b.copy] : []))],
        ...(mode === 'init' ? { created: todo.map((b) => b.name) } : {}),
        movies: tallies.jav.synced,
        actors: tallies.actors.synced,
        tags: tallies.tags.synced,
      };
      return { items: tallies.jav.synced + tallies.actors.synced + tallies.tags.synced, summary };
    } catch (err) {
      // Once the aliases point at the new indices they are the live ones: never delete them.
      if (!swapped) await this.undo(ctx, created, blocked);
      throw err;
    }
  }

  private async load(ctx: JobContext, todo: readonly Built[], mode: RebuildMode): Promise<Record<CatalogIndex, SyncTally>> {
    const tallies: Record<CatalogIndex, SyncTally> = { jav: emptyTally(), actors: emptyTally(), tags: emptyTally() };
    for (const b of todo)
      tallies[b.index] =
        b.index === 'jav' ? await this.loaders.movies(ctx, b.built, mode) : await this.loaders.catalog(ctx, b.index, b.built, mode);
    return tallies;
  }

  /** The plan was made before a build of minutes: if a name changed hands meanwhile, swap nothing. */
  private async requireUnchanged(planned: readonly { index: CatalogIndex; holder: Holder }[], todo: readonly Built[]): Promise<void> {
    const shape = (h: Holder) =>
      `${h.kind}:${
        h.kind === 'none'
          ? ''
          : h.indices
              .map((i) => `${i.name}${i.tally ? '' : '(foreign)'}`)
              .sort()
              .join(',')
      }`;
    for (const b of todo) {
      const before = planned.find((p) => p.index === b.index)!.holder;
      const now = await this.sink.holder(b.name);
      if (shape(now) !== shape(before)) {
        throw new TallyError(
          'ES_SYNC_INDEX_CHANGED',
          `${b.name} changed while the new index was built (was ${shape(before)}, now ${shape(now)}); nothing was swapped, run again`,
          { retriable: true },
        );
      }
    }
  }

  /**
   * The actions of the one _aliases call. A foreign concrete index is first write-blocked (so the
   * copy cannot miss a late write), cloned and counted; only a copy with every document lets it go.
   */
  private async swapActions(todo: readonly Built[], blocked: Blocked[]): Promise<estypes.IndicesUpdateAliasesAction[]> {
    const actions: estypes.IndicesUpdateAliasesAction[] = [];
    for (const b of todo) {
      if (b.action === 'replace' && b.holder.kind === 'alias')
        for (const old of b.holder.indices) actions.push({ remove: { index: old.name, alias: b.name } });
      else if (b.action === 'replace') actions.push({ remove_index: { index: b.name } });
      else if (b.action === 'take-over-alias') for (const old of b.keep) actions.push({ remove: { index: old, alias: b.name } });
      else if (b.action === 'take-over-index') {
        const block: Blocked = { name: b.name, previous: await this.sink.writeBlock(b.name), copy: b.copy, cloned: false };
        blocked.push(block);
        await this.sink.setWriteBlock(b.name, true);
        await this.sink.clone(b.name, b.copy);
        block.cloned = true;
        const [original, copy] = [await this.sink.countDocs(b.name), await this.sink.countDocs(b.copy)];
        if (original !== copy) {
          throw new TallyError(
            'ES_SYNC_COPY_INCOMPLETE',
            `the copy ${b.copy} has ${copy} documents, ${b.name} has ${original}: ${b.name} was not replaced`,
          );
        }
        actions.push({ remove_index: { index: b.name } });
      }
      actions.push({ add: { index: b.built, alias: b.name } });
    }
    return actions;
  }

  /** Deletes Tally's retired indices; a kept copy gets the write block its original had. */
  private async afterSwap(ctx: JobContext, todo: readonly Built[], blocked: readonly Blocked[]): Promise<string[]> {
    for (const b of blocked) {
      await this.sink.setWriteBlock(b.copy, b.previous);
      ctx.logger.warn(
        { index: b.name, keptAs: b.copy },
        "took over a foreign index: its documents are kept in the copy, the name now serves Tally's index",
      );
    }
    const retired = todo.flatMap((b) => (b.action === 'replace' && b.holder.kind === 'alias' ? b.holder.indices.map((i) => i.name) : []));
    for (const old of retired) await this.sink.deleteIndex(old);
    return retired;
  }

  /** Before the swap nothing foreign was removed: delete what this run created, lift its blocks. */
  private async undo(ctx: JobContext, created: readonly string[], blocked: readonly Blocked[]): Promise<void> {
    for (const name of [...created, ...blocked.filter((b) => b.cloned).map((b) => b.copy)])
      await this.sink.deleteIndex(name).catch(() => undefined);
    for (const b of blocked) {
      await this.sink
        .setWriteBlock(b.name, b.previous)
        .catch((err: unknown) =>
          ctx.logger.error(
            { index: b.name, err },
            'could not lift the write block this run set: lift it with PUT <index>/_settings {"index.blocks.write": null}',
          ),
        );
    }
  }
}
