import type { estypes } from '@elastic/elasticsearch';
import { esAliasName } from '@tally/config';
import { DEFAULT_COUNT_FIELDS, DEFAULT_SEARCH_TARGET, writtenCountFields, type CountFields, type SearchTarget } from './target';

/** The three indices es-sync keeps; `jav` is the movie index (its name comes from the SearchTarget). */
export type CatalogIndex = 'jav' | 'actors' | 'tags';
export const CATALOG_INDICES: readonly CatalogIndex[] = ['jav', 'actors', 'tags'];

/**
 * The one marker of ownership: every index es-sync creates carries it in its mapping's `_meta`.
 * An index or alias without it (the web app's own `jav`, an index built before the marker existed)
 * is foreign, whatever its name: es-sync never deletes, replaces or rewrites it, and only updates
 * the count fields of a foreign movie index in place.
 */
export const TALLY_META = Object.freeze({ managed_by: 'tally-es-sync' });

export function isTallyMapping(mapping: { _meta?: Record<string, unknown> | undefined } | undefined): boolean {
  return mapping?._meta?.managed_by === TALLY_META.managed_by;
}

/** The name query-api reads and es-sync writes: `<prefix>jav`, `<prefix>actors`, `<prefix>tags`. */
export function aliasName(prefix: string, index: CatalogIndex, target: SearchTarget = DEFAULT_SEARCH_TARGET): string {
  return esAliasName(prefix, (index === 'jav' ? target.movies : target[index]).index);
}

const stamp = (at: Date) => at.toISOString().replace(/[-:.]/g, '').toLowerCase();

/**
 * A new concrete index behind an alias, e.g. `jav_v20261126t153000123z`: sortable by build time and
 * unique per --reindex, so the old one keeps serving until the alias swap.
 */
export function versionedIndexName(prefix: string, index: CatalogIndex, at: Date, target: SearchTarget = DEFAULT_SEARCH_TARGET): string {
  return `${aliasName(prefix, index, target)}_v${stamp(at)}`;
}

/** Where --take-over keeps a foreign concrete index it replaces, e.g. `jav_pre_tally_20261126t153000123z`. */
export function preTallyCopyName(name: string, at: Date): string {
  return `${name}_pre_tally_${stamp(at)}`;
}

const keywordLower: estypes.MappingKeywordProperty = { type: 'keyword', normalizer: 'lower' };
// search_as_you_type indexes the name, its 2- and 3-shingles and edge n-grams of them
// (name._index_prefix): "dra" finds "Drama" with a multi_match bool_prefix query, and a `fuzzy`
// clause on `name` tolerates one typo. Prefix queries on a keyword would scan terms; these are
// ordinary term lookups.
const searchableName: estypes.MappingSearchAsYouTypeProperty = { type: 'search_as_you_type', fields: { keyword: { type: 'keyword' } } };

const analysis: estypes.IndicesIndexSettingsAnalysis = { normalizer: { lower: { type: 'custom', filter: ['lowercase', 'asciifolding'] } } };

/** Fields of es-sync's own movie documents besides the counts (a count field may not take one of these names). */
export const MOVIE_FIELDS: Record<string, estypes.MappingProperty> = {
  id: { type: 'long' },
  code: { ...keywordLower, fields: { text: { type: 'text' } } },
  title: { type: 'text', fields: { keyword: { type: 'keyword', ignore_above: 500 } } },
  provider: { type: 'keyword' },
  release_date: { type: 'date', format: 'yyyy-MM-dd' },
  counts_updated_at: { type: 'date' },
  actors: { type: 'text', fields: { keyword: { type: 'keyword' } } },
  tags: { type: 'keyword', fields: { text: { type: 'text' } } },
};

const catalogMapping = (): estypes.MappingTypeMapping => ({
  _meta: { ...TALLY_META },
  dynamic: 'strict',
  properties: { id: { type: 'long' }, name: searchableName, movie_count: { type: 'long' }, synced_run: { type: 'long' } },
});

/**
 * The mappings of the indices es-sync builds, the movie counts under their configured names.
 * `dynamic: strict` everywhere: a field es-sync does not know (a typo, a stale document written by
 * something else) fails that document loudly instead of quietly growing the mapping.
 */
export function mappingsFor(countFields: CountFields): Record<CatalogIndex, estypes.MappingTypeMapping> {
  // Popularity sorts read the counts: long, as MySQL's BIGINT.
  const counts = Object.fromEntries(writtenCountFields(countFields).map(([, field]) => [field, { type: 'long' } as const]));
  return {
    jav: { _meta: { ...TALLY_META }, dynamic: 'strict', properties: { ...MOVIE_FIELDS, ...counts } },
    actors: catalogMapping(),
    tags: catalogMapping(),
  };
}

export const MAPPINGS: Record<CatalogIndex, estypes.MappingTypeMapping> = mappingsFor(DEFAULT_COUNT_FIELDS);

// No refreshes and no replicas while loading: each refresh writes a new segment (100k documents at
// the default 1 s interval would write dozens), and replicas are copied once at the end instead.
export const LOAD_SETTINGS: estypes.IndicesIndexSettings = { number_of_shards: 1, number_of_replicas: 0, refresh_interval: '-1', analysis };

/** What a loaded index gets before its alias moves to it. */
export function liveSettings(replicas: number): estypes.IndicesIndexSettings {
  return { number_of_replicas: replicas, refresh_interval: '1s' };
}
