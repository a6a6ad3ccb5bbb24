import type { Knex } from 'knex';
import { JAV_COUNTS_INDEX } from '@tally/db';
import type { CatalogRow, CountsRow, MovieRow, Watermark } from './handler';

type Rows<T> = [T[], unknown];

/**
 * Everything es-sync reads from MySQL, always in keyset pages (never OFFSET, which rereads every
 * skipped row: page 100 of 1,000 would scan 100k index entries), plus its watermark.
 */
export class CatalogSource {
  constructor(private readonly db: Knex) {}

  /** The database clock: the cutoff and the reindex watermark must agree with what stamped the rows. */
  async now(): Promise<Date> {
    const [[row]] = (await this.db.raw('SELECT NOW(3) AS now')) as Rows<{ now: Date }>;
    return row!.now;
  }

  async watermark(name: string): Promise<Watermark | undefined> {
    const row = await this.db('sync_watermarks').where({ name }).first<{ watermark: Date; watermark_id: number } | undefined>('watermark', 'watermark_id');
    return row ? { at: row.watermark, id: Number(row.watermark_id) } : undefined;
  }

  async saveWatermark(name: string, w: Watermark): Promise<void> {
    await this.db('sync_watermarks').insert({ name, watermark: w.at, watermark_id: w.id }).onConflict('name').merge(['watermark', 'watermark_id']);
  }

  /**
   * Rows whose counts changed after `after`, up to `cutoff`, in (counts_updated_at, id) order. The
   * OR form rather than a row comparison `(a, b) > (?, ?)`: on MariaDB 10.11 EXPLAIN shows the row
   * comparison bounding only `counts_updated_at <= cutoff` (key_len 8: every page rescans all rows
   * before the watermark), the OR form a two-column range starting at the watermark (key_len 16).
   */
  async changedCounts(after: Watermark, cutoff: Date, limit: number): Promise<CountsRow[]> {
    const [rows] = (await this.db.raw(
      `SELECT id, views, downloads, likes, counts_updated_at FROM jav FORCE INDEX (${JAV_COUNTS_INDEX})
       WHERE (counts_updated_at > ? OR (counts_updated_at = ? AND id > ?)) AND counts_updated_at <= ?
       ORDER BY counts_updated_at, id LIMIT ?`,
      [after.at, after.at, after.id, cutoff, limit],
    )) as Rows<CountsRow>;
    return rows;
  }

  /** Every row's counts in id order, for --full (NULL counts_updated_at included). */
  async countsById(afterId: number, limit: number): Promise<CountsRow[]> {
    const [rows] = (await this.db.raw(
      'SELECT id, views, downloads, likes, counts_updated_at FROM jav WHERE id > ? ORDER BY id LIMIT ?',
      [afterId, limit],
    )) as Rows<CountsRow>;
    return rows;
  }

  /** Whole movies with their actor and tag names (link rows read by id range on the primary keys). */
  async movies(afterId: number, limit: number): Promise<{ row: MovieRow; actors: string[]; tags: string[] }[]> {
    const [rows] = (await this.db.raw(
      'SELECT id, code, title, provider, release_date, views, downloads, likes, counts_updated_at FROM jav WHERE id > ? ORDER BY id LIMIT ?',
      [afterId, limit],
    )) as Rows<MovieRow>;
    if (rows.length === 0) return [];
    const last = rows[rows.length - 1]!.id;
    const [actors, tags] = await Promise.all([
      this.names('jav_actors', 'actor_id', 'actors', afterId, last),
      this.names('jav_tags', 'tag_id', 'tags', afterId, last),
    ]);
    return rows.map((row) => ({ row, actors: actors.get(row.id) ?? [], tags: tags.get(row.id) ?? [] }));
  }

  private async names(link: string, column: string, table: string, afterId: number, lastId: number): Promise<Map<number, string[]>> {
    const [rows] = (await this.db.raw(
      `SELECT l.jav_id, e.name FROM ${link} l JOIN ${table} e ON e.id = l.${column} WHERE l.jav_id > ? AND l.jav_id <= ? ORDER BY l.jav_id, e.name`,
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
    const [link, column] = kind === 'actors' ? ['jav_actors', 'actor_id'] : ['jav_tags', 'tag_id'];
    const [rows] = (await this.db.raw(
      `SELECT e.id, e.name, (SELECT COUNT(*) FROM ${link} l WHERE l.${column} = e.id) AS movie_count
       FROM ${kind} e WHERE e.id > ? ORDER BY e.id LIMIT ?`,
      [afterId, limit],
    )) as Rows<CatalogRow>;
    return rows;
  }
}
