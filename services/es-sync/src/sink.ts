import type { Client, estypes } from '@elastic/elasticsearch';
import { DependencyError, errorMessage, TallyError, type Logger } from '@tally/runtime';
import { classifyItem, type BulkItemAnswer, type BulkOp } from './handler';
import { LOAD_SETTINGS, liveSettings } from './indices';

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
    private readonly logger: Logger,
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
        const outcome = classifyItem(answers[i] ?? { status: 0, error: { type: 'no_answer', reason: 'bulk response had fewer items than requests' } });
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

  /** Fails with a clear code when an alias is missing (a new environment that never ran --reindex). */
  async requireAliases(aliases: readonly string[]): Promise<void> {
    const missing: string[] = [];
    for (const alias of aliases) if (!(await this.es.indices.existsAlias({ name: alias }))) missing.push(alias);
    if (missing.length > 0) {
      throw new TallyError('ES_SYNC_INDEX_MISSING', `no Elasticsearch alias ${missing.join(', ')}: run \`es-sync --reindex\` once to build the indices`);
    }
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
   * Points every alias at its new index in ONE _aliases call (readers see either all old or all
   * new indices, never a mix), then deletes the indices the aliases left. A concrete index that
   * holds an alias's name (auto-created by a write before any --reindex) is removed in the same
   * atomic call, since an alias cannot coexist with it.
   */
  async swapAliases(pairs: readonly { alias: string; index: string }[], onSwapped: () => void): Promise<string[]> {
    const actions: estypes.IndicesUpdateAliasesAction[] = [];
    const retired: string[] = [];
    for (const { alias, index } of pairs) {
      if (await this.es.indices.existsAlias({ name: alias })) {
        const current = Object.keys(await this.es.indices.getAlias({ name: alias }));
        for (const old of current) {
          actions.push({ remove: { index: old, alias } });
          retired.push(old);
        }
      } else if (await this.es.indices.exists({ index: alias })) {
        this.logger.warn({ index: alias }, 'a concrete index has the alias name: removing it in the alias swap');
        actions.push({ remove_index: { index: alias } });
      }
      actions.push({ add: { index, alias } });
    }
    await this.es.indices.updateAliases({ actions });
    onSwapped();
    for (const old of retired) await this.deleteIndex(old);
    return retired;
  }

  async deleteIndex(name: string): Promise<void> {
    await this.es.indices.delete({ index: name, ignore_unavailable: true });
  }

  /** Deletes catalog documents not rewritten by run `runId`: their MySQL row is gone. */
  async deleteStale(alias: string, runId: number): Promise<number> {
    await this.es.indices.refresh({ index: alias });
    const res = await this.es.deleteByQuery({ index: alias, query: { range: { synced_run: { lt: runId } } }, conflicts: 'proceed', refresh: true });
    return res.deleted ?? 0;
  }
}
