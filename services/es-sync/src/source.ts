import type { Knex } from 'knex';
import { COUNTS_INDEX, q, type Catalog } from '@tally/catalog';
import type { CatalogRow, CountsRow, MovieRow, Watermark } from './handler';

type Rows<T> = [T[], unknown];

/**
 * Everything es-sync reads from MySQL, always in keyset pages (never OFFSET, which rereads every
 * skipped row: page 100 of 1,000 would scan 100k index entries), plus its watermark.
 */
export class CatalogSource {
  constructor(
    private readonly db: Knex,
    private readonly app: Catalog,
  ) {}

  /** The database clock: the cutoff and the reindex watermark must agree with what stamped the rows. */
  async now(): Promise<Date> {
    const [[row]] = (await this.db.raw('SELECT NOW(3) AS now')) as Rows<{ now: Date }>;
    return row!.now;
  }

  async watermark(name: string): Promise<Watermark | undefined> {
    const row = await this.db('sync_watermarks')
      .where({ name })
      .first<{ watermark: Date; watermark_id: number } | undefined>('watermark', 'watermark_id');
    return row ? { at: row.watermark, id: Number(row.watermark_id) } : undefined;
  }

  async saveWatermark(name: string, w: Watermark): Promise<void> {
    await this.db('sync_watermarks')
      .insert({ name, watermark: w.at, watermark_id: w.id })
      .onConflict('name')
      .merge(['watermark', 'watermark_id']);
  }

  /**
   * Rows whose counts changed after `after`, up to `cutoff`, in (counts_updated_at, id) order. The
   * OR form rather than a row comparison `(a, b) > (?, ?)`: on MariaDB 10.11 EXPLAIN shows the row
   * comparison bounding only `counts_updated_at <= cutoff` (key_len 8: every page rescans all rows
   * before the watermark), the OR form a two-column range starting at the watermark (key_len 16).
   */
  async changedCounts(after: Watermark, cutoff: Date, limit: number): Promise<CountsRow[]> {
    const m = this.app.movies;
    const at = `m.${q(m.countsUpdatedAt)}`;
    const id = `m.${q(m.id)}`;
    const [rows] = (await this.db.raw(
      `SELECT ${id} AS id, ${this.app.movieCountsSelect('m')} FROM ${this.app.sql('movies')} m FORCE INDEX (${COUNTS_INDEX})
       WHERE (${at} > ? OR (${at} = ? AND ${id} > ?)) AND ${at} <= ?
       ORDER BY ${at}, ${id} LIMIT ?`,
      [after.at, after.at, after.id, cutoff, limit],
    )) as Rows<CountsRow>;
    return rows;
  }

  /** Every row's counts in id order, for --full (NULL counts_updated_at included). */
  async countsById(afterId: number, limit: number): Promise<CountsRow[]> {
    const id = `m.${q(this.app.movies.id)}`;
    const [rows] = (await this.db.raw(
      `SELECT ${id} AS id, ${this.app.movieCountsSelect('m')} FROM ${this.app.sql('movies')} m WHERE ${id} > ? ORDER BY ${id} LIMIT ?`,
      [afterId, limit],
    )) as Rows<CountsRow>;
    return rows;
  }

  /** Whole movies with their actor and tag names (link rows read by id range on the primary keys). */
  async movies(afterId: number, limit: number): Promise<{ row: MovieRow; actors: string[]; tags: string[] }[]> {
    const id = `m.${q(this.app.movies.id)}`;
    const [rows] = (await this.db.raw(
      `SELECT ${this.app.movieDisplaySelect('m')}, ${this.app.movieCountsSelect('m')} FROM ${this.app.sql('movies')} m WHERE ${id} > ? ORDER BY ${id} LIMIT ?`,
      [afterId, limit],
    )) as Rows<MovieRow>;
    if (rows.length === 0) return [];
    const last = rows[rows.length - 1]!.id;
    const [actors, tags] = await Promise.all([this.names('actors', afterId, last), this.names('tags', afterId, last)]);
    return rows.map((row) => ({ row, actors: actors.get(row.id) ?? [], tags: tags.get(row.id) ?? [] }));
  }

  private async names(kind: 'actors' | 'tags', afterId: number, lastId: number): Promise<Map<number, string[]>> {
    const { link, other, entity } = this.entity(kind);
    const [rows] = (await this.db.raw(
      `SELECT l.${q(link.movie)} AS jav_id, e.${q(entity.name)} AS name FROM ${this.app.sql(kind === 'actors' ? 'movieActors' : 'movieTags')} l
         JOIN ${this.app.sql(kind)} e ON e.${q(entity.id)} = l.${q(other)}
        WHERE l.${q(link.movie)} > ? AND l.${q(link.movie)} <= ? ORDER BY l.${q(link.movie)}, e.${q(entity.name)}`,
      [afterId, lastId],
    )) as Rows<{ jav_id: number; name: string }>;
    const byMovie = new Map<number, string[]>();
    for (const r of rows) {
      const list = byMovie.get(r.jav_id);
      if (list) list.push(r.name);
      else byMovie.set(r.jav_id, [r.name]);
    }
    return byMovie;
  }

  /** Actors or tags with their movie counts (one index lookup per entity on (<entity>_id, jav_id)). */
  async catalog(kind: 'actors' | 'tags', afterId: number, limit: number): Promise<CatalogRow[]> {
    const { other, entity } = this.entity(kind);
    const [rows] = (await this.db.raw(
      `SELECT e.${q(entity.id)} AS id, e.${q(entity.name)} AS name, (SELECT COUNT(*) FROM ${this.app.sql(kind === 'actors' ? 'movieActors' : 'movieTags')} l WHERE l.${q(other)} = e.${q(entity.id)}) AS movie_count
       FROM ${this.app.sql(kind)} e WHERE e.${q(entity.id)} > ? ORDER BY e.${q(entity.id)} LIMIT ?`,
      [afterId, limit],
    )) as Rows<CatalogRow>;
    return rows;
  }

  /** The mapped link table, its column pointing at the entity, and the entity table. */
  private entity(kind: 'actors' | 'tags') {
    const m = this.app.mapping;
    return kind === 'actors'
      ? { link: m.movieActors, other: m.movieActors.actor, entity: m.actors }
      : { link: m.movieTags, other: m.movieTags.tag, entity: m.tags };
  }
}
