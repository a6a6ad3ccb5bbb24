import type { Knex } from 'knex';
import { NotFound } from './params';

export interface HistoryEntry {
  jav_id: number;
  code: string | null;
  title: string | null;
  view_count: number;
  first_viewed_at: string | null;
  last_viewed_at: string | null;
  downloaded: boolean;
  download_count: number;
  last_downloaded_at: string | null;
}

export interface HistoryPage {
  user_id: number;
  items: HistoryEntry[];
  limit: number;
  offset: number;
  next_offset: number | null;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** user_jav_history as the history service keeps it, newest view first. */
export class HistoryStore {
  constructor(private readonly db: Knex) {}

  /** A user is known when the web app has the account or the pipeline has seen it act. */
  async assertUser(userId: number): Promise<void> {
    const [account, seen] = await Promise.all([
      this.db('users').where({ id: userId }).first('id'),
      this.db('user_jav_history').where({ user_id: userId }).first('id'),
    ]);
    if (!account && !seen) throw new NotFound('USER_NOT_FOUND', `no user with id ${userId}`);
  }

  async page(userId: number, limit: number, offset: number): Promise<HistoryPage> {
    await this.assertUser(userId);
    // Offset paging: one user's history is hundreds of rows at most, read through the
    // (user_id, last_viewed_at) index; one extra row tells whether there is a next page.
    const rows = await this.db('user_jav_history as h')
      .leftJoin('jav as j', 'j.id', 'h.jav_id')
      .where('h.user_id', userId)
      .orderBy([{ column: 'h.last_viewed_at', order: 'desc' }, { column: 'h.id', order: 'desc' }])
      .limit(limit + 1)
      .offset(offset)
      .select<Record<string, unknown>[]>('h.jav_id', 'j.code', 'j.title', 'h.view_count', 'h.first_viewed_at', 'h.last_viewed_at', 'h.downloaded', 'h.download_count', 'h.last_downloaded_at');
    const items = rows.slice(0, limit).map((r) => ({
      jav_id: Number(r.jav_id),
      code: (r.code as string | null) ?? null,
      title: (r.title as string | null) ?? null,
      view_count: Number(r.view_count),
      first_viewed_at: iso(r.first_viewed_at as Date | null),
      last_viewed_at: iso(r.last_viewed_at as Date | null),
      downloaded: Boolean(r.downloaded),
      download_count: Number(r.download_count),
      last_downloaded_at: iso(r.last_downloaded_at as Date | null),
    }));
    return { user_id: userId, items, limit, offset, next_offset: rows.length > limit ? offset + limit : null };
  }
}
