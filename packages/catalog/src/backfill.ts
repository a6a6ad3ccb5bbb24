import type { Knex } from 'knex';
import { TallyError } from '@tally/runtime';
import type { Metric } from '@tally/layout';
import { q, type Catalog } from './catalog';

/** The part of a Redis client the backfill uses (ioredis fits). */
export interface BackfillRedis {
  hlen(key: string): Promise<number>;
  mset(...keysAndValues: string[]): Promise<unknown>;
}

export interface BackfillReport {
  /** movie_user_state rows per facet after the backfill (a re-run changes nothing: idempotent). */
  states: { like: number; rating: number; watchlist: number };
  /** Movies whose likes, rating_count, rating_sum or watchlists changed to the figure of their states. */
  moviesChanged: number;
  /** Display keys `<prefix>{likes,rating_count,rating_sum,watchlists}:{id}` set from MySQL. */
  displayKeys: number;
}

/** The figures of per-user state (the others, views and downloads, are sums of events the app already counted). */
const STATE_METRICS = ['likes', 'rating_count', 'rating_sum', 'watchlists'] as const satisfies readonly Metric[];
type StateMetric = (typeof STATE_METRICS)[number];

const EPOCH = "'1970-01-01 00:00:00.000'";
const PAGE = 1_000;
const NEWER = "VALUES(event_at) > event_at OR (VALUES(event_at) = event_at AND COALESCE(VALUES(event_id), '') > COALESCE(event_id, ''))";
/**
 * The one rule for writing movie_user_state (the backfill and the flusher): the newer change by
 * (event_at, event_id) wins, as in the counter's Redis state; a backfilled row has the app's change
 * time and no event id, so a later event wins over it and an older one does not. Assignments run
 * left to right, so value and event_id are decided before event_at moves.
 */
export const USER_STATE_UPSERT_TAIL = `ON DUPLICATE KEY UPDATE value = IF(${NEWER}, VALUES(value), value), event_id = IF(${NEWER}, VALUES(event_id), event_id), event_at = GREATEST(event_at, VALUES(event_at))`;

/**
 * Fills Tally's per-user state from the app's own tables and makes the likes figure the app's
 * (docs/adopting.md): movie_user_state from interactions and watchlists, the mapped likes, rating
 * and watchlist columns = the figures of those states, and the display keys from them. Runs before the counter has
 * counted anything: afterwards the counter's Redis state is the newer truth and a backfill would
 * race it (refused unless `force`).
 */
export async function backfillUserState(
  db: Knex,
  redis: BackfillRedis,
  catalog: Catalog,
  opts: { force?: boolean } = {},
): Promise<BackfillReport> {
  const [[offsets]] = (await db.raw('SELECT COUNT(*) AS n FROM counter_offsets')) as [[{ n: number | string }]];
  const applied = await redis.hlen('tally:counter:applied');
  if (!opts.force && (Number(offsets!.n) > 0 || applied > 0)) {
    throw new TallyError(
      'BACKFILL_AFTER_START',
      'the counter has already counted events (counter_offsets or tally:counter:applied is not empty): backfill before the first start of the consumers, or pass --force if you know no like was counted since',
      { exitCode: 1 },
    );
  }
  const i = catalog.mapping.interactions;
  const at = i.changedAt === null ? EPOCH : `COALESCE(${q(i.changedAt)}, ${EPOCH})`;
  const from = catalog.sql('interactions');
  const insert = (select: string) =>
    `INSERT INTO movie_user_state (facet, jav_id, user_id, value, event_at, event_id) ${select} ${USER_STATE_UPSERT_TAIL}`;
  const states = { like: 0, rating: 0, watchlist: 0 };
  const run = async (sql: string, bindings: Knex.RawBinding[]): Promise<number> =>
    ((await db.raw(sql, bindings)) as [{ affectedRows: number }])[0].affectedRows;
  const who = `${q(i.movie)}, ${q(i.user)}`;
  if (i.shape.kind === 'columns') {
    await run(
      insert(`SELECT 'like', ${who}, IF(${q(i.shape.liked)} = 1, 1, 0), ${at}, NULL FROM ${from} WHERE ${q(i.shape.liked)} IS NOT NULL`),
      [],
    );
    if (i.shape.rating !== null)
      await run(
        insert(`SELECT 'rating', ${who}, ${q(i.shape.rating)}, ${at}, NULL FROM ${from} WHERE ${q(i.shape.rating)} BETWEEN 1 AND 5`),
        [],
      );
  } else {
    await run(insert(`SELECT 'like', ${who}, 1, MAX(${at}), NULL FROM ${from} WHERE ${q(i.shape.action)} = ? GROUP BY ${who}`), [
      i.shape.like,
    ]);
    if (i.shape.value !== null) {
      await run(
        insert(
          `SELECT 'rating', ${who}, MAX(${q(i.shape.value)}), MAX(${at}), NULL FROM ${from} WHERE ${q(i.shape.action)} = ? AND ${q(i.shape.value)} BETWEEN 1 AND 5 GROUP BY ${who}`,
        ),
        [i.shape.rate],
      );
    }
  }
  const w = catalog.mapping.watchlists;
  await run(insert(`SELECT DISTINCT 'watchlist', ${q(w.movie)}, ${q(w.user)}, 1, ${EPOCH}, NULL FROM ${catalog.sql('watchlists')}`), []);

  const [counted] = (await db.raw('SELECT facet, COUNT(*) AS n FROM movie_user_state GROUP BY facet')) as [
    { facet: keyof BackfillReport['states']; n: number | string }[],
  ];
  for (const r of counted) states[r.facet] = Number(r.n);

  // The figures of the states, per movie; counts_updated_at is assigned first, while the columns still
  // hold the old values, so es-sync sees exactly the movies that changed.
  const m = catalog.movies;
  const col = (metric: StateMetric) => `j.${q(m.counts[metric])}`;
  const differs = STATE_METRICS.map((metric) => `${col(metric)} <> COALESCE(s.${metric}, 0)`).join(' OR ');
  const moviesChanged = await run(
    `UPDATE ${catalog.sql('movies')} j LEFT JOIN (
        SELECT jav_id, SUM(facet = 'like' AND value = 1) AS likes, SUM(facet = 'rating' AND value > 0) AS rating_count,
               SUM(IF(facet = 'rating', value, 0)) AS rating_sum, SUM(facet = 'watchlist' AND value = 1) AS watchlists
          FROM movie_user_state GROUP BY jav_id) s ON s.jav_id = j.${q(m.id)}
        SET j.${q(m.countsUpdatedAt)} = IF(${differs}, NOW(3), j.${q(m.countsUpdatedAt)}), ${STATE_METRICS.map((metric) => `${col(metric)} = COALESCE(s.${metric}, 0)`).join(', ')}
      WHERE ${differs}`,
    [],
  );
  let displayKeys = 0;
  const columns = STATE_METRICS.map((metric) => `${q(m.counts[metric])} AS ${metric}`).join(', ');
  for (let after = 0; ;) {
    const [rows] = (await db.raw(
      `SELECT ${q(m.id)} AS id, ${columns} FROM ${catalog.sql('movies')} WHERE ${q(m.id)} > ? ORDER BY ${q(m.id)} LIMIT ${PAGE}`,
      [after],
    )) as [({ id: number } & Record<StateMetric, number | string>)[]];
    if (rows.length === 0) break;
    await redis.mset(
      ...rows.flatMap((r) => STATE_METRICS.flatMap((metric) => [catalog.keys.display(metric, Number(r.id)), String(Number(r[metric]))])),
    );
    displayKeys += rows.length * STATE_METRICS.length;
    after = Number(rows[rows.length - 1]!.id);
  }
  return { states, moviesChanged, displayKeys };
}
