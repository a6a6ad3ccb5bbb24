import type { estypes } from '@elastic/elasticsearch';
import { esIndices } from '@tally/layout';

export type CatalogIndex = keyof typeof esIndices;
export const CATALOG_INDICES: readonly CatalogIndex[] = ['jav', 'actors', 'tags'];

/** The alias query-api reads and es-sync writes: `<prefix>jav`, `<prefix>actors`, `<prefix>tags`. */
export function aliasName(prefix: string, index: CatalogIndex): string {
  return `${prefix}${esIndices[index]}`;
}

/**
 * A new concrete index behind an alias, e.g. `jav_v20261126t153000123z`: sortable by build time and
 * unique per --reindex, so the old one keeps serving until the alias swap.
 */
export function versionedIndexName(prefix: string, index: CatalogIndex, at: Date): string {
  return `${aliasName(prefix, index)}_v${at.toISOString().replace(/[-:.]/g, '').toLowerCase()}`;
}

const keywordLower: estypes.MappingKeywordProperty = { type: 'keyword', normalizer: 'lower' };
// search_as_you_type indexes the name, its 2- and 3-shingles and edge n-grams of them
// (name._index_prefix): "dra" finds "Drama" with a multi_match bool_prefix query, and a `fuzzy`
// clause on `name` tolerates one typo. Prefix queries on a keyword would scan terms; these are
// ordinary term lookups.
const searchableName: estypes.MappingSearchAsYouTypeProperty = { type: 'search_as_you_type', fields: { keyword: { type: 'keyword' } } };

const analysis: estypes.IndicesIndexSettingsAnalysis = { normalizer: { lower: { type: 'custom', filter: ['lowercase', 'asciifolding'] } } };

/**
 * `dynamic: strict` everywhere: a field es-sync does not know (a typo, a stale document written by
 * something else) fails that document loudly instead of quietly growing the mapping.
 */
export const MAPPINGS: Record<CatalogIndex, estypes.MappingTypeMapping> = {
  jav: {
    dynamic: 'strict',
    properties: {
      id: { type: 'long' },
      code: { ...keywordLower, fields: { text: { type: 'text' } } },
      title: { type: 'text', fields: { keyword: { type: 'keyword', ignore_above: 500 } } },
      provider: { type: 'keyword' },
      release_date: { type: 'date', format: 'yyyy-MM-dd' },
      // Popularity sorts read these: long, as MySQL's BIGINT.
      views: { type: 'long' },
      downloads: { type: 'long' },
      likes: { type: 'long' },
      counts_updated_at: { type: 'date' },
      actors: { type: 'text', fields: { keyword: { type: 'keyword' } } },
      tags: { type: 'keyword', fields: { text: { type: 'text' } } },
    },
  },
  actors: {
    dynamic: 'strict',
    properties: { id: { type: 'long' }, name: searchableName, movie_count: { type: 'long' }, synced_run: { type: 'long' } },
  },
  tags: {
    dynamic: 'strict',
    properties: { id: { type: 'long' }, name: searchableName, movie_count: { type: 'long' }, synced_run: { type: 'long' } },
  },
};

// No refreshes and no replicas while loading: each refresh writes a new segment (100k documents at
// the default 1 s interval would write dozens), and replicas are copied once at the end instead.
export const LOAD_SETTINGS: estypes.IndicesIndexSettings = { number_of_shards: 1, number_of_replicas: 0, refresh_interval: '-1', analysis };

/** What a loaded index gets before its alias moves to it. */
export function liveSettings(replicas: number): estypes.IndicesIndexSettings {
  return { number_of_replicas: replicas, refresh_interval: '1s' };
}
