import type { Client, estypes } from '@elastic/elasticsearch';
import { DependencyError, errorMessage } from '@tally/runtime';
import { classifyItem, type BulkItemAnswer, type BulkOp } from './handler';
import { LOAD_SETTINGS, liveSettings } from './indices';
import { concreteIndex, type Holder } from './ownership';

export interface BulkResult {
  /** Ids written (or already equal). */
  ok: number[];
  /** Ids whose document is not in the index (partial updates only). */
  missing: number[];
  /** Ids that still failed after the in-run retries, with the last reason. */
  failed: Map<number, string>;
  /** Item retries spent on transient failures. */
  retries: number;
}

// Only what classifyItem reads: a 1,000-item response shrinks from ~150 KB to ~20 KB of JSON.
const FILTER_PATH = ['errors', 'items.*.status', 'items.*.error.type', 'items.*.error.reason'];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Everything es-sync writes to Elasticsearch. Request-level failures become DependencyError (retriable). */
export class EsSink {
  constructor(
    private readonly es: Client,
    private readonly retry: { attempts: number; backoffMs: number },
  ) {}

  /**
   * One _bulk of `ops` into `target`, then again for the items that failed transiently (with a
   * doubling backoff) until none are left or the attempts are spent. `require_alias` on writes to
   * an alias: a missing alias must fail, not auto-create a concrete index that shadows it.
   */
  async bulk(target: string, ops: readonly BulkOp[], opts: { requireAlias: boolean }): Promise<BulkResult> {
    const result: BulkResult = { ok: [], missing: [], failed: new Map(), retries: 0 };
    let pending = ops;
    for (let attempt = 0; pending.length > 0; attempt++) {
      const answers = await this.send(target, pending, opts.requireAlias);
      const again: BulkOp[] = [];
      pending.forEach((op, i) => {
        const outcome = classifyItem(
          answers[i] ?? { status: 0, error: { type: 'no_answer', reason: 'bulk response had fewer items than requests' } },
        );
        if (outcome.kind === 'ok') result.ok.push(op.id);
        else if (outcome.kind === 'missing') result.missing.push(op.id);
        else if (outcome.kind === 'retry' && attempt < this.retry.attempts) again.push(op);
        else result.failed.set(op.id, outcome.reason);
      });
      if (again.length > 0) {
        result.retries += again.length;
        await sleep(this.retry.backoffMs * 2 ** attempt);
      }
      pending = again;
    }
    return result;
  }

  private async send(target: string, ops: readonly BulkOp[], requireAlias: boolean): Promise<BulkItemAnswer[]> {
    const operations: unknown[] = [];
    for (const op of ops) {
      if (op.action === 'update') operations.push({ update: { _id: String(op.id), retry_on_conflict: 3 } }, { doc: op.doc });
      else operations.push({ index: { _id: String(op.id) } }, op.doc);
    }
    let res: { errors?: boolean; items?: Record<string, BulkItemAnswer>[] };
    try {
      res = (await this.es.bulk({ index: target, operations, require_alias: requireAlias, filter_path: FILTER_PATH })) as typeof res;
    } catch (err) {
      throw new DependencyError('elasticsearch', `_bulk of ${ops.length} documents into ${target} failed: ${errorMessage(err)}`, err);
    }
    if (!res.errors) return ops.map(() => ({ status: 200 }));
    // Items answer in request order; each is `{ "<action>": { status, error? } }`.
    return (res.items ?? []).map((item) => Object.values(item)[0] ?? { status: 0 });
  }

  /** What holds `name` (an alias is checked first: `exists` is true for an alias too), with each index's owner. */
  async holder(name: string): Promise<Holder> {
    const kind = (await this.es.indices.existsAlias({ name }))
      ? 'alias'
      : (await this.es.indices.exists({ index: name }))
        ? 'index'
        : 'none';
    if (kind === 'none') return { kind, name };
    const mappings = await this.es.indices.getMapping({ index: name });
    const indices = Object.entries(mappings).map(([index, m]) => concreteIndex(index, m.mappings as Parameters<typeof concreteIndex>[1]));
    return kind === 'index' ? { kind, name, indices: [indices[0]!] } : { kind, name, indices };
  }

  async createIndex(name: string, mappings: estypes.MappingTypeMapping): Promise<void> {
    await this.es.indices.create({ index: name, settings: LOAD_SETTINGS, mappings });
  }

  /** Turns a loaded index live: refreshes back on, replicas as configured, everything searchable. */
  async finishLoad(name: string, replicas: number): Promise<void> {
    await this.es.indices.putSettings({ index: name, settings: liveSettings(replicas) });
    await this.es.indices.refresh({ index: name });
  }

  async refresh(target: string): Promise<void> {
    await this.es.indices.refresh({ index: target });
  }

  /**
   * All alias moves and index removals of a rebuild in ONE _aliases call: readers see either all
   * old or all new indices, never a mix, and if any action fails (a name taken meanwhile) none applies.
   */
  async updateAliases(actions: estypes.IndicesUpdateAliasesAction[]): Promise<void> {
    await this.es.indices.updateAliases({ actions });
  }

  /** `index.blocks.write` as set on the index (null = not set). */
  async writeBlock(name: string): Promise<boolean | null> {
    const res = await this.es.indices.getSettings({ index: name, name: 'index.blocks.write', flat_settings: true });
    const value = (res[name]?.settings as Record<string, unknown> | undefined)?.['index.blocks.write'];
    return value === undefined ? null : String(value) === 'true';
  }

  /** Sets `index.blocks.write` (null removes the setting, as if never set). */
  async setWriteBlock(name: string, blocked: boolean | null): Promise<void> {
    await this.es.indices.putSettings({ index: name, settings: { 'index.blocks.write': blocked } });
  }

  /**
   * `_clone`: a copy with the same mapping, settings and documents (segments hard-linked, not
   * reindexed: seconds even for a large index). The source must be write-blocked; the copy inherits
   * the block. Waits until the copy's primaries are active, i.e. its documents are readable.
   */
  async clone(source: string, target: string): Promise<void> {
    await this.es.indices.clone({ index: source, target, wait_for_active_shards: 1 });
    await this.es.cluster.health({ index: target, wait_for_status: 'yellow', timeout: '60s' });
  }

  /** Documents in an index, after a refresh so nothing indexed is left out. */
  async countDocs(name: string): Promise<number> {
    await this.es.indices.refresh({ index: name });
    return (await this.es.count({ index: name })).count;
  }

  async deleteIndex(name: string): Promise<void> {
    await this.es.indices.delete({ index: name, ignore_unavailable: true });
  }

  /** Deletes catalog documents not rewritten by run `runId`: their MySQL row is gone. */
  async deleteStale(alias: string, runId: number): Promise<number> {
    await this.es.indices.refresh({ index: alias });
    const res = await this.es.deleteByQuery({
      index: alias,
      query: { range: { synced_run: { lt: runId } } },
      conflicts: 'proceed',
      refresh: true,
    });
    return res.deleted ?? 0;
  }
}
