/**
 * Where es-sync writes: the web app's index names and the fields of the movie index that hold the
 * counts. Self-contained (no imports) so it can be replaced by the shared catalog mapping with one
 * line; ES_INDEX_PREFIX is applied on top of these names, not stored in them.
 */
export interface SearchTarget {
  movies: {
    index: string;
    /** Field of each count in a movie document; null = this count is not written at all. */
    countFields: { views: string | null; downloads: string | null; likes: string | null };
  };
  actors: { index: string };
  tags: { index: string };
}

export type CountName = keyof SearchTarget['movies']['countFields'];
export type CountFields = SearchTarget['movies']['countFields'];

/** What es-sync wrote before the target was configurable (and what its own indices map). */
export const DEFAULT_SEARCH_TARGET: SearchTarget = Object.freeze({
  movies: Object.freeze({ index: 'jav', countFields: Object.freeze({ views: 'views', downloads: 'downloads', likes: 'likes' }) }),
  actors: Object.freeze({ index: 'actors' }),
  tags: Object.freeze({ index: 'tags' }),
});

export const DEFAULT_COUNT_FIELDS: CountFields = DEFAULT_SEARCH_TARGET.movies.countFields;

/** The counts that are written, as [count, field] pairs in a fixed order. */
export function writtenCountFields(fields: CountFields): [CountName, string][] {
  const out: [CountName, string][] = [];
  for (const name of ['views', 'downloads', 'likes'] as const) {
    const field = fields[name];
    if (field !== null) out.push([name, field]);
  }
  return out;
}
