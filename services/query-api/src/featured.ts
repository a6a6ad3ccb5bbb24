import type Redis from 'ioredis';
import type { Knex } from 'knex';
import { q, type Catalog } from '@tally/catalog';

type ItemType = 'movie' | 'actor' | 'tag';
const ITEM_TYPES: readonly ItemType[] = ['movie', 'actor', 'tag'];

/** One entry of the cached payload (docs/featured-cache.schema.json is its contract for the web app). */
export interface FeaturedItem {
  id: number;
  /** Tally's kind, whatever value the app stores (a Laravel app may store model class names). */
  item_type: ItemType;
  item_id: number;
  group: string;
  rank: number;
  /** null: no expiry, or the app has no expiry column. */
  expires_at: string | null;
  /** The movie, actor or tag itself; null when the web app deleted it but kept the featured row. */
  item: Record<string, unknown> | null;
}

interface FeaturedRow {
  id: number | string;
  item_type: string;
  item_id: number | string;
  group: string;
  rank: number | string;
  expires_at: Date | null;
}

/** SET the rebuilt list only if no invalidation happened since the rebuild began (KEYS: cache, version; ARGV: version seen, list, ttl ms). */
const SET_IF_UNCHANGED = `
if (redis.call('GET', KEYS[2]) or '0') ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
`;

/**
 * Cache-aside over the app's featured items (docs/featured-cache.md). The counter deletes
 * `<prefix>featured:all` and the group's key on every featured.* event and bumps
 * `<prefix>featured:version` in the same step; the next read here rebuilds from MySQL. A rebuild
 * stores its list only if the version is still the one it saw before reading MySQL, so a rebuild
 * racing with a change cannot re-cache the old list (the next read rebuilds again).
 */
export class FeaturedStore {
  /** One MySQL rebuild per key at a time in this process: a cold key under load costs one query, not hundreds. */
  private readonly inflight = new Map<string, Promise<FeaturedItem[]>>();
  private readonly ttlMs: number;
  /** The app's itemType value → Tally's kind. */
  private readonly kindOf: Map<string, ItemType>;

  constructor(
    private readonly redis: Redis,
    private readonly db: Knex,
    private readonly catalog: Catalog,
    private readonly now: () => number = Date.now,
  ) {
    this.ttlMs = catalog.mapping.redis.featuredTtlSeconds * 1_000;
    this.kindOf = new Map(ITEM_TYPES.map((t) => [catalog.mapping.featured.itemTypes[t], t]));
  }

  async list(group: string | undefined): Promise<{ items: FeaturedItem[]; cached: boolean }> {
    const keys = this.catalog.keys;
    const key = group === undefined ? keys.featuredAll : keys.featuredGroup(group);
    const hit = await this.redis.get(key);
    const items = hit !== null ? (JSON.parse(hit) as FeaturedItem[]) : await this.rebuild(key, group);
    // Expiry is checked on every read, not only at rebuild: a cached list stays exact to the millisecond.
    const now = this.now();
    return { items: items.filter((i) => i.expires_at === null || Date.parse(i.expires_at) > now), cached: hit !== null };
  }

  private rebuild(key: string, group: string | undefined): Promise<FeaturedItem[]> {
    let p = this.inflight.get(key);
    if (!p) {
      const version = this.catalog.keys.featuredVersion;
      p = this.redis
        .get(version)
        .then(async (seen) => {
          const items = await this.load(group);
          await this.redis.eval(SET_IF_UNCHANGED, 2, key, version, seen ?? '0', JSON.stringify(items), String(this.ttlMs));
          return items;
        })
        .finally(() => this.inflight.delete(key));
      this.inflight.set(key, p);
    }
    return p;
  }

  /** Active (when the app has the column), unexpired (likewise) rows of the three kinds, in group and rank order. */
  private async load(group: string | undefined): Promise<FeaturedItem[]> {
    const f = this.catalog.mapping.featured;
    const query = this.db(this.catalog.table('featured'))
      .whereIn(f.itemType, [...this.kindOf.keys()])
      .orderBy([{ column: f.group }, { column: f.rank }, { column: f.id }])
      .select<FeaturedRow[]>({
        id: f.id,
        item_type: f.itemType,
        item_id: f.itemId,
        group: f.group,
        rank: f.rank,
        ...(f.expiresAt === null ? {} : { expires_at: f.expiresAt }),
      });
    if (f.active !== null) query.andWhere(f.active, true);
    const expiresAt = f.expiresAt;
    if (expiresAt !== null) query.andWhere((w) => w.whereNull(expiresAt).orWhere(expiresAt, '>', new Date(this.now())));
    if (group !== undefined) query.andWhere(f.group, group);
    const rows = await query;
    const typed = rows.map((r) => ({ ...r, kind: this.kindOf.get(r.item_type)! }));
    const loaded = await this.loadItems(typed);
    return typed.map((r) => ({
      id: Number(r.id),
      item_type: r.kind,
      item_id: Number(r.item_id),
      group: r.group,
      rank: Number(r.rank),
      expires_at: r.expires_at ? r.expires_at.toISOString() : null,
      item: loaded.get(`${r.kind}:${Number(r.item_id)}`) ?? null,
    }));
  }

  /** One query per item type (at most three), whatever the number of featured rows. */
  private async loadItems(rows: (FeaturedRow & { kind: ItemType })[]): Promise<Map<string, Record<string, unknown>>> {
    const out = new Map<string, Record<string, unknown>>();
    for (const kind of ITEM_TYPES) {
      const ids = [...new Set(rows.filter((r) => r.kind === kind).map((r) => Number(r.item_id)))];
      if (ids.length === 0) continue;
      const { table, id, columns } = this.itemSql(kind);
      const items = await this.db({ t: table }).whereIn(`t.${id}`, ids).select<Record<string, unknown>[]>(this.db.raw(columns));
      for (const it of items) out.set(`${kind}:${Number(it.id)}`, normalize(it));
    }
    return out;
  }

  /** The item's table and its fields under the payload's names (code, title, provider, … for a movie). */
  private itemSql(kind: ItemType): { table: string; id: string; columns: string } {
    const c = this.catalog;
    if (kind === 'movie') {
      const counts = c.movies.counts;
      return {
        table: c.table('movies'),
        id: c.movies.id,
        columns: `${c.movieDisplaySelect('t')}, t.${q(counts.views)} AS views, t.${q(counts.downloads)} AS downloads, t.${q(counts.likes)} AS likes`,
      };
    }
    const part = c.mapping[kind === 'actor' ? 'actors' : 'tags'];
    return {
      table: c.table(kind === 'actor' ? 'actors' : 'tags'),
      id: part.id,
      columns: `t.${q(part.id)} AS id, t.${q(part.name)} AS name`,
    };
  }
}

/** Dates as ISO text (release_date as YYYY-MM-DD), BIGINT/DECIMAL strings of ids and counts as numbers. */
function normalize(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row))
    out[k] =
      v instanceof Date
        ? v.toISOString().slice(0, k === 'release_date' ? 10 : undefined)
        : typeof v === 'string' && /^(id|views|downloads|likes)$/.test(k)
          ? Number(v)
          : v;
  return out;
}
