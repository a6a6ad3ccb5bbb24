import type Redis from 'ioredis';
import type { Knex } from 'knex';
import { DEFAULT_APP_KEYS } from '@tally/layout';

type ItemType = 'movie' | 'actor' | 'tag';

export interface FeaturedItem {
  id: number;
  item_type: ItemType;
  item_id: number;
  group: string;
  rank: number;
  expires_at: string | null;
  /** The movie, actor or tag itself; null when the web app deleted it but kept the featured row. */
  item: Record<string, unknown> | null;
}

interface FeaturedRow {
  id: number;
  item_type: ItemType;
  item_id: number;
  group: string;
  rank: number;
  expires_at: Date | null;
}

const ITEM_TABLES: Record<ItemType, { table: string; columns: string[] }> = {
  movie: { table: 'jav', columns: ['id', 'code', 'title', 'provider', 'release_date', 'views', 'downloads', 'likes'] },
  actor: { table: 'actors', columns: ['id', 'name'] },
  tag: { table: 'tags', columns: ['id', 'name'] },
};

/** SET the rebuilt list only if no invalidation happened since the rebuild began (KEYS: cache, version; ARGV: version seen, list, ttl ms). */
const SET_IF_UNCHANGED = `
if (redis.call('GET', KEYS[2]) or '0') ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
`;

/**
 * Cache-aside over featured_items. The counter deletes jav:featured:all and the group's key on every
 * featured.* event and bumps jav:featured:version in the same step; the next read here rebuilds from
 * MySQL. A rebuild stores its list only if the version is still the one it saw before reading MySQL,
 * so a rebuild racing with a change cannot re-cache the old list (the next read rebuilds again).
 */
export class FeaturedStore {
  /** One MySQL rebuild per key at a time in this process: a cold key under load costs one query, not hundreds. */
  private readonly inflight = new Map<string, Promise<FeaturedItem[]>>();

  constructor(private readonly redis: Redis, private readonly db: Knex, private readonly ttlMs: number, private readonly now: () => number = Date.now) {}

  async list(group: string | undefined): Promise<{ items: FeaturedItem[]; cached: boolean }> {
    const key = group === undefined ? DEFAULT_APP_KEYS.featuredAll : DEFAULT_APP_KEYS.featuredGroup(group);
    const hit = await this.redis.get(key);
    const items = hit !== null ? (JSON.parse(hit) as FeaturedItem[]) : await this.rebuild(key, group);
    // Expiry is checked on every read, not only at rebuild: a cached list stays exact to the millisecond.
    const now = this.now();
    return { items: items.filter((i) => i.expires_at === null || Date.parse(i.expires_at) > now), cached: hit !== null };
  }

  private rebuild(key: string, group: string | undefined): Promise<FeaturedItem[]> {
    let p = this.inflight.get(key);
    if (!p) {
      p = this.redis.get(DEFAULT_APP_KEYS.featuredVersion)
        .then(async (version) => {
          const items = await this.load(group);
          await this.redis.eval(SET_IF_UNCHANGED, 2, key, DEFAULT_APP_KEYS.featuredVersion, version ?? '0', JSON.stringify(items), String(this.ttlMs));
          return items;
        })
        .finally(() => this.inflight.delete(key));
      this.inflight.set(key, p);
    }
    return p;
  }

  private async load(group: string | undefined): Promise<FeaturedItem[]> {
    const q = this.db('featured_items')
      .where({ active: true })
      .andWhere((w) => w.whereNull('expires_at').orWhere('expires_at', '>', new Date(this.now())))
      .orderBy([{ column: 'group' }, { column: 'rank' }, { column: 'id' }])
      .select<FeaturedRow[]>('id', 'item_type', 'item_id', 'group', 'rank', 'expires_at');
    if (group !== undefined) q.andWhere({ group });
    const rows = await q;
    const loaded = await this.loadItems(rows);
    return rows.map((r) => ({
      id: Number(r.id),
      item_type: r.item_type,
      item_id: Number(r.item_id),
      group: r.group,
      rank: r.rank,
      expires_at: r.expires_at ? r.expires_at.toISOString() : null,
      item: loaded.get(`${r.item_type}:${Number(r.item_id)}`) ?? null,
    }));
  }

  /** One query per item type (at most three), whatever the number of featured rows. */
  private async loadItems(rows: FeaturedRow[]): Promise<Map<string, Record<string, unknown>>> {
    const out = new Map<string, Record<string, unknown>>();
    for (const type of Object.keys(ITEM_TABLES) as ItemType[]) {
      const ids = [...new Set(rows.filter((r) => r.item_type === type).map((r) => Number(r.item_id)))];
      if (ids.length === 0) continue;
      const spec = ITEM_TABLES[type];
      const items = await this.db(spec.table).whereIn('id', ids).select<Record<string, unknown>[]>(...spec.columns);
      for (const it of items) out.set(`${type}:${Number(it.id)}`, normalize(it));
    }
    return out;
  }
}

function normalize(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) out[k] = v instanceof Date ? v.toISOString().slice(0, k === 'release_date' ? 10 : undefined) : typeof v === 'string' && /^(id|views|downloads|likes)$/.test(k) ? Number(v) : v;
  return out;
}
