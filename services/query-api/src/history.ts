import type { Knex } from 'knex';
import { q, type Catalog } from '@tally/catalog';
import { NotFound } from './params';

/** One history row under the API's names; a field the app's table does not keep (mapped to null) is null. */
export interface HistoryEntry {
  jav_id: number;
  code: string | null;
  title: string | null;
  view_count: number | null;
  first_viewed_at: string | null;
  last_viewed_at: string | null;
  downloaded: boolean | null;
  download_count: number | null;
  last_downloaded_at: string | null;
}

export interface HistoryPage {
  user_id: number;
  items: HistoryEntry[];
  limit: number;
  offset: number;
  next_offset: number | null;
}

const iso = (d: unknown) => (d instanceof Date ? d.toISOString() : null);
const orNull = <T>(v: unknown, f: (v: unknown) => T): T | null => (v === null || v === undefined ? null : f(v));

/** The app's user_jav_history as the history service keeps it, newest view first. */
export class HistoryStore {
  /** The page query without its bindings; fixed by the mapping, so built once. */
  private readonly pageSql: string;

  constructor(
    private readonly db: Knex,
    private readonly catalog: Catalog,
  ) {
    const h = catalog.mapping.history;
    const m = catalog.movies;
    const col = (name: string | null, as: string) => (name === null ? `NULL AS ${as}` : `h.${q(name)} AS ${as}`);
    const c = h.columns;
    // Offset paging: one user's history is hundreds of rows at most, read through the (user,
    // last viewed) index; one extra row tells whether there is a next page. Ties on the time go to
    // the higher movie id: (user, movie) is the table's unique key, so the order is total.
    this.pageSql = `SELECT h.${q(h.movie)} AS jav_id, j.${q(m.display.code)} AS code, j.${q(m.display.title)} AS title,
        ${col(c.viewCount, 'view_count')}, ${col(c.firstViewedAt, 'first_viewed_at')}, ${col(c.lastViewedAt, 'last_viewed_at')},
        ${col(c.downloaded, 'downloaded')}, ${col(c.downloadCount, 'download_count')}, ${col(c.lastDownloadedAt, 'last_downloaded_at')}
      FROM ${catalog.sql('history')} h LEFT JOIN ${catalog.sql('movies')} j ON j.${q(m.id)} = h.${q(h.movie)}
      WHERE h.${q(h.user)} = ?
      ORDER BY ${c.lastViewedAt === null ? '' : `h.${q(c.lastViewedAt)} DESC, `}h.${q(h.movie)} DESC LIMIT ? OFFSET ?`;
  }

  /** A user is known when the web app has the account or the pipeline has seen it act. */
  async assertUser(userId: number): Promise<void> {
    const { users, history } = this.catalog.mapping;
    const [account, seen] = await Promise.all([
      this.db(this.catalog.table('users')).where(users.id, userId).first(users.id),
      this.db(this.catalog.table('history')).where(history.user, userId).first(history.user),
    ]);
    if (!account && !seen) throw new NotFound('USER_NOT_FOUND', `no user with id ${userId}`);
  }

  async page(userId: number, limit: number, offset: number): Promise<HistoryPage> {
    await this.assertUser(userId);
    const [rows] = (await this.db.raw(this.pageSql, [userId, limit + 1, offset])) as [Record<string, unknown>[]];
    const items = rows.slice(0, limit).map((r) => ({
      jav_id: Number(r.jav_id),
      code: (r.code as string | null) ?? null,
      title: (r.title as string | null) ?? null,
      view_count: orNull(r.view_count, Number),
      first_viewed_at: iso(r.first_viewed_at),
      last_viewed_at: iso(r.last_viewed_at),
      downloaded: orNull(r.downloaded, Boolean),
      download_count: orNull(r.download_count, Number),
      last_downloaded_at: iso(r.last_downloaded_at),
    }));
    return { user_id: userId, items, limit, offset, next_offset: rows.length > limit ? offset + limit : null };
  }
}
