import { appKeys, METRICS, type AppKeys } from '@tally/layout';
import { DEMO_MAPPING, type CatalogMapping } from './mapping';

/** The mapped tables, by Tally's name for them. */
export type CatalogPart =
  'movies' | 'actors' | 'tags' | 'movieActors' | 'movieTags' | 'users' | 'featured' | 'history' | 'interactions' | 'watchlists';

/** Display fields of a movie as Tally's APIs name them, whatever the app's columns are called. */
export const MOVIE_DISPLAY_FIELDS = ['code', 'title', 'provider', 'release_date'] as const;
export type MovieDisplayField = (typeof MOVIE_DISPLAY_FIELDS)[number];

/** Backtick-quotes an identifier that the mapping's schema already restricted to [A-Za-z0-9_$]. */
export const q = (name: string): string => `\`${name}\``;

/**
 * Read access to a mapping for the code that reads or writes the app's stores: qualified table
 * names, the columns of each part, and the few SQL fragments more than one reader needs.
 */
export class Catalog {
  /** The app's Redis keys under the mapping's prefix. */
  readonly keys: AppKeys;

  constructor(readonly mapping: CatalogMapping = DEMO_MAPPING) {
    this.keys = appKeys(mapping.redis.prefix);
  }

  /** `app.jav` (knex builder form: `db(catalog.table('movies'))`, or a `??` binding). */
  table(part: CatalogPart): string {
    const name = this.mapping[part].table;
    return this.mapping.database === null ? name : `${this.mapping.database}.${name}`;
  }

  /** `` `app`.`jav` `` for raw SQL. */
  sql(part: CatalogPart): string {
    const name = q(this.mapping[part].table);
    return this.mapping.database === null ? name : `${q(this.mapping.database)}.${name}`;
  }

  get movies() {
    return this.mapping.movies;
  }

  /** `col AS field` for the id and each mapped display field, for a raw SELECT over the movies table (alias `m` by default). */
  movieDisplaySelect(alias = 'm'): string {
    const m = this.mapping.movies;
    const parts = [`${alias}.${q(m.id)} AS id`];
    for (const f of MOVIE_DISPLAY_FIELDS) {
      const column = m.display[f];
      parts.push(column === null ? `NULL AS ${f}` : `${alias}.${q(column)} AS ${f}`);
    }
    return parts.join(', ');
  }

  /** `col AS metric` for each count column (and counts_updated_at), for a raw SELECT over the movies table. */
  movieCountsSelect(alias = 'm'): string {
    const m = this.mapping.movies;
    return [
      ...METRICS.map((metric) => `${alias}.${q(m.counts[metric])} AS ${metric}`),
      `${alias}.${q(m.countsUpdatedAt)} AS counts_updated_at`,
    ].join(', ');
  }

  /**
   * `SELECT user_id, jav_id` of every current like in the app's interactions table, whichever shape
   * it has. Values are bound, never inlined.
   */
  likedPairs(): { sql: string; bindings: string[] } {
    const i = this.mapping.interactions;
    const head = `SELECT ${q(i.user)} AS user_id, ${q(i.movie)} AS jav_id FROM ${this.sql('interactions')}`;
    if (i.shape.kind === 'columns') return { sql: `${head} WHERE ${q(i.shape.liked)} = 1`, bindings: [] };
    return { sql: `${head} WHERE ${q(i.shape.action)} = ?`, bindings: [i.shape.like] };
  }
}

export const DEMO_CATALOG = new Catalog(DEMO_MAPPING);
