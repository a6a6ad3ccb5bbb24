import type Redis from 'ioredis';
import type { Knex } from 'knex';
import type { Catalog } from '@tally/catalog';
import { counterKeys, METRICS, noteReseedLua, type Metric } from '@tally/layout';
import { NotFound } from './params';

export interface MovieCounts {
  jav_id: number;
  views: number;
  downloads: number;
  /** Users who like the movie now. */
  likes: number;
  /** Users who rated it, and the average of their current ratings (null without any). */
  rating_count: number;
  rating_avg: number | null;
  /** Users with it on their watchlist. */
  watchlists: number;
}

/**
 * Seeds one display key the way the counter does, atomically with respect to its apply script:
 * MySQL's value + the pending delta not yet flushed. SET only when still missing, so a key the
 * counter created meanwhile (with newer deltas in it) is never overwritten with an older value.
 * A seed a flush may have raced is noted for the flusher's re-align, as the counter's are.
 * KEYS: display key, pending hash, flush registry, flush generation, realign set. ARGV: MySQL value,
 * pending field, the flush generation read before MySQL was. Returns the value now shown.
 */
const SEED_SCRIPT = `
local v = redis.call('GET', KEYS[1])
if v then return v end
${noteReseedLua({ flushes: 'KEYS[3]', generation: 'KEYS[4]', realign: 'KEYS[5]', seen: 'ARGV[3]' })}
local p = tonumber(redis.call('HGET', KEYS[2], ARGV[2]) or '0')
local seeded = tonumber(ARGV[1]) + p
redis.call('SET', KEYS[1], seeded)
noteReseed(ARGV[2])
return tostring(seeded)
`;

type SeedingRedis = Redis & {
  tallySeedDisplay(
    display: string,
    pending: string,
    flushes: string,
    generation: string,
    realign: string,
    mysqlValue: string,
    pendingField: string,
    seenGeneration: string,
  ): Promise<string>;
};

/** Display counts: the app's Redis keys first (one MGET), its movies table only for keys Redis does not have yet. */
export class CountsStore {
  private readonly redis: SeedingRedis;

  constructor(
    redis: Redis,
    private readonly db: Knex,
    private readonly catalog: Catalog,
  ) {
    if (!('tallySeedDisplay' in redis)) redis.defineCommand('tallySeedDisplay', { numberOfKeys: 5, lua: SEED_SCRIPT });
    this.redis = redis as SeedingRedis;
  }

  async get(javId: number): Promise<MovieCounts> {
    const keys = this.catalog.keys;
    const shown = await this.redis.mget(...METRICS.map((m) => keys.display(m, javId)));
    if (shown.every((v) => v !== null)) return toCounts(javId, shown as string[]);
    // Read before MySQL is: the seed script compares it (noteReseedLua).
    const generation = (await this.redis.get(counterKeys.flushGeneration)) ?? '';
    const movies = this.catalog.movies;
    const row = await this.db(this.catalog.table('movies'))
      .where(movies.id, javId)
      .first<Record<Metric, number | string> | undefined>(movies.counts);
    // The counter creates keys for movies MySQL does not know yet (counted at 0 + deltas); a movie
    // neither knows about is unknown.
    if (!row && shown.every((v) => v === null)) throw new NotFound('MOVIE_NOT_FOUND', `no movie with id ${javId}`);
    const values = await Promise.all(
      METRICS.map(
        (m, i) =>
          shown[i] ??
          this.redis.tallySeedDisplay(
            keys.display(m, javId),
            counterKeys.pending,
            counterKeys.flushes,
            counterKeys.flushGeneration,
            counterKeys.realign,
            String(Number(row?.[m] ?? 0)),
            counterKeys.pendingField(m, javId),
            generation,
          ),
      ),
    );
    return toCounts(javId, values);
  }
}

function toCounts(javId: number, v: readonly string[]): MovieCounts {
  const n = Object.fromEntries(METRICS.map((m, i) => [m, Number(v[i])])) as Record<Metric, number>;
  return {
    jav_id: javId,
    views: n.views,
    downloads: n.downloads,
    likes: n.likes,
    rating_count: n.rating_count,
    // Two decimals: what a page shows; the exact figures are rating_sum / rating_count in MySQL.
    rating_avg: n.rating_count > 0 ? Math.round((n.rating_sum / n.rating_count) * 100) / 100 : null,
    watchlists: n.watchlists,
  };
}
