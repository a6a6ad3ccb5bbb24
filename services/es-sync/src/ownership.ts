/**
 * Who holds an index name, and what --reindex / --init may do about it. Pure: sink.ts reads the
 * cluster into a Holder, rebuild.ts carries out the plan.
 */
import { TallyError } from '@tally/runtime';
import { isTallyMapping, preTallyCopyName, TALLY_META, type CatalogIndex } from './indices';

export interface ConcreteIndex {
  name: string;
  /** Carries es-sync's `_meta` marker. */
  tally: boolean;
  /** Top-level field names of its mapping. */
  fields: string[];
}

/** What a name is on the cluster: nothing, a concrete index, or an alias over concrete indices. */
export type Holder =
  | { kind: 'none'; name: string }
  | { kind: 'index'; name: string; indices: [ConcreteIndex] }
  | { kind: 'alias'; name: string; indices: ConcreteIndex[] };

export function concreteIndex(
  name: string,
  mapping: { _meta?: Record<string, unknown>; properties?: Record<string, unknown> } | undefined,
): ConcreteIndex {
  return { name, tally: isTallyMapping(mapping), fields: Object.keys(mapping?.properties ?? {}) };
}

/** Tally's only if every index behind the name carries the marker: one foreign index makes the name foreign. */
export function isTallyHolder(h: Holder): boolean {
  return h.kind !== 'none' && h.indices.every((i) => i.tally);
}

export function isForeignHolder(h: Holder): boolean {
  return h.kind !== 'none' && !isTallyHolder(h);
}

/** What happens to one name when Tally's new index is swapped in. */
export type RebuildStep =
  /** --init: something already holds the name; left exactly as it is. */
  | { index: CatalogIndex; name: string; action: 'keep' }
  /** Nothing held the name: the alias is added. */
  | { index: CatalogIndex; name: string; action: 'create' }
  /** Tally's own: the alias moves, the indices it leaves are deleted. */
  | { index: CatalogIndex; name: string; action: 'replace'; holder: Holder }
  /** A foreign alias: it moves to Tally's index, the indices it pointed at are kept untouched. */
  | { index: CatalogIndex; name: string; action: 'take-over-alias'; keep: string[] }
  /** A foreign concrete index: copied to `copy` (verified), then replaced by the alias in the swap. */
  | { index: CatalogIndex; name: string; action: 'take-over-index'; copy: string };

export type RebuildMode = 'reindex' | 'init';

/**
 * Decides each name before anything is created, so a refusal leaves the cluster untouched:
 * --reindex never replaces a foreign index unless --take-over says so, and --init only builds
 * names that nothing holds.
 */
export function planRebuild(
  holders: readonly { index: CatalogIndex; holder: Holder }[],
  mode: RebuildMode,
  takeOver: boolean,
  at: Date,
): RebuildStep[] {
  const refused = mode === 'reindex' && !takeOver ? holders.filter((h) => isForeignHolder(h.holder)) : [];
  if (refused.length > 0)
    throw foreignIndexError(
      refused.map((h) => h.holder),
      at,
    );
  return holders.map(({ index, holder }): RebuildStep => {
    const name = holder.name;
    if (holder.kind === 'none') return { index, name, action: 'create' };
    if (mode === 'init') return { index, name, action: 'keep' };
    if (isTallyHolder(holder)) return { index, name, action: 'replace', holder };
    if (holder.kind === 'alias') return { index, name, action: 'take-over-alias', keep: holder.indices.map((i) => i.name) };
    return { index, name, action: 'take-over-index', copy: preTallyCopyName(name, at) };
  });
}

function foreignIndexError(holders: readonly Holder[], at: Date): TallyError {
  const what = holders.map((h) =>
    h.kind === 'alias'
      ? `${h.name} (an alias over ${h.indices.map((i) => i.name).join(', ')}; they would be kept, the alias moved)`
      : `${h.name} (a concrete index; it would be kept as ${preTallyCopyName(h.name, at)})`,
  );
  return new TallyError(
    'ES_SYNC_FOREIGN_INDEX',
    `--reindex refused: ${what.join('; ')} ${holders.length === 1 ? 'was' : 'were'} not created by es-sync (no _meta.managed_by "${TALLY_META.managed_by}" in the mapping), ` +
      "so it will not be replaced. To build Tally's index under the name and keep the existing documents, run `es-sync --reindex --take-over`.",
  );
}
