import type { Client as EsClient } from '@elastic/elasticsearch';
import { esAliasName } from '@tally/config';
import { DependencyError, TallyError, errorMessage } from '@tally/runtime';

export interface TagHit {
  tag_id: number;
  name: string;
  movie_count: number;
}

/** es-sync's document (services/es-sync/src/indices.ts MAPPINGS.tags). */
interface TagDoc {
  id: number;
  name: string;
  movie_count?: number;
}

/**
 * Tag autocomplete over es-sync's `<prefix><tags index>` alias (the catalog mapping's
 * `search.tags.index`, `tags` by default): name prefix match, most-used tags first.
 */
export class TagSearch {
  readonly index: string;

  constructor(
    private readonly es: EsClient,
    prefix: string,
    tagsIndex: string,
  ) {
    this.index = esAliasName(prefix, tagsIndex);
  }

  async search(q: string, limit: number): Promise<TagHit[]> {
    try {
      const res = await this.es.search<TagDoc>({
        index: this.index,
        size: limit,
        // es-sync maps `name` as search_as_you_type: bool_prefix over it and its shingles finds "dra"
        // in "Drama" and "sum fes" in "Summer Festival" with term lookups, no prefix scan.
        query: { multi_match: { query: q, type: 'bool_prefix', fields: ['name', 'name._2gram', 'name._3gram'] } },
        sort: [{ _score: { order: 'desc' } }, { movie_count: { order: 'desc', unmapped_type: 'long' } }],
      });
      return res.hits.hits.map((h) => ({
        tag_id: Number(h._source?.id ?? h._id),
        name: h._source?.name ?? '',
        movie_count: Number(h._source?.movie_count ?? 0),
      }));
    } catch (err) {
      const status = (err as { meta?: { statusCode?: number } }).meta?.statusCode;
      if (status === 404)
        throw new TallyError('TAG_INDEX_MISSING', `tag index '${this.index}' does not exist yet (es-sync has not run)`, {
          httpStatus: 503,
          retriable: true,
        });
      throw new DependencyError('elasticsearch', errorMessage(err), err);
    }
  }
}
