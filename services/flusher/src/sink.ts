import type Redis from 'ioredis';
import type { Knex } from 'knex';
import { counterKeys, METRICS, type Metric } from '@tally/layout';
import { q, USER_STATE_UPSERT_TAIL, type Catalog } from '@tally/catalog';
import { TallyError } from '@tally/runtime';
import { chunks, insertDeltasSql, realignArgs, type CounterField, type MovieCounts, type ParsedFlush, type UserState } from './handler';
import { REALIGN_SCRIPT, TAKE_SCRIPT } from './scripts';

interface RedisWithScripts extends Redis {
  tallyTake(pending: string, flushing: string, registry: string, flushId: string): Promise<number>;
  tallyRealign(numKeys: number, ...keysAndArgs: string[]): Promise<number>;
}

export interface ApplyReport {
  /** The ledger already had this flush id (applied by an earlier run, or a concurrent one). */
  alreadyApplied: boolean;
  javRows: number;
  /** Movies with deltas that MySQL has no row for (their deltas are dropped, never invented). */
  unknownIds: number[];
}

export interface SinkOptions {
  mysqlChunkRows: number;
  realignChunkKeys: number;
  readPageFields: number;
}

// Per-session name: two flushes never share a MySQL session, so they never share this table.
const TEMP_TABLE = 'flusher_deltas';

/** The flusher's I/O: the Redis side (take, read, re-align, clean up) and the MySQL transaction. */
export class FlushSink {
  private readonly redis: RedisWithScripts;

  constructor(
    redis: Redis,
    private readonly db: Knex,
    private readonly opts: SinkOptions,
    private readonly catalog: Catalog,
  ) {
    redis.defineCommand('tallyTake', { numberOfKeys: 3, lua: TAKE_SCRIPT });
    redis.defineCommand('tallyRealign', { lua: REALIGN_SCRIPT });
    this.redis = redis as RedisWithScripts;
  }

  /** Flush ids taken and not yet cleaned up: what a killed run left behind. */
  async leftovers(): Promise<string[]> {
    return (await this.redis.smembers(counterKeys.flushes)).sort();
  }

  async take(flushId: string): Promise<boolean> {
    return (await this.redis.tallyTake(counterKeys.pending, counterKeys.flushing(flushId), counterKeys.flushes, flushId)) === 1;
  }

  /** A taken hash, page by page (HSCAN: no single reply blocks Redis); undefined when it does not exist. */
  async read(flushId: string): Promise<Map<string, string> | undefined> {
    const key = counterKeys.flushing(flushId);
    const out = new Map<string, string>();
    let cursor = '0';
    do {
      const [next, flat] = await this.redis.hscan(key, cursor, 'COUNT', this.opts.readPageFields);
      // Nobody writes a taken hash, so a repeated field (SCAN may return one twice) has the same value.
      for (let i = 0; i < flat.length; i += 2) out.set(flat[i]!, flat[i + 1]!);
      cursor = next;
    } while (cursor !== '0');
    return out.size === 0 ? undefined : out;
  }

  async isApplied(flushId: string): Promise<boolean> {
    return (await this.db('flush_ledger').where({ flush_id: flushId }).first('flush_id')) !== undefined;
  }

  /**
   * One transaction: the ledger row first (a second applier of the same flush id waits on its primary
   * key, then fails as a duplicate and applies nothing), the deltas, the covered offsets (keep the
   * max), and last a check that the taken hash still exists — if Redis lost its data meanwhile, the
   * counter rewinds to the offsets MySQL has now, so committing these deltas would count them twice.
   */
  async apply(flushId: string, flush: ParsedFlush): Promise<ApplyReport> {
    try {
      return await this.db.transaction(async (trx) => {
        await trx('flush_ledger').insert({ flush_id: flushId, delta_fields: flush.fields.length, offset_rows: flush.offsets.length });
        const { javRows, unknownIds } = await this.addDeltas(trx, flush);
        await this.saveStates(trx, flush.states);
        if (flush.offsets.length > 0) {
          await trx.raw(
            `INSERT INTO counter_offsets (topic, \`partition\`, \`offset\`) VALUES ${flush.offsets.map(() => '(?, ?, ?)').join(', ')}
             ON DUPLICATE KEY UPDATE \`offset\` = GREATEST(\`offset\`, VALUES(\`offset\`))`,
            flush.offsets.flatMap((o) => [o.topic, o.partition, o.offset]),
          );
        }
        await trx('flush_ledger').where({ flush_id: flushId }).update({ jav_rows: javRows });
        if ((await this.redis.exists(counterKeys.flushing(flushId))) === 0) {
          throw new TallyError(
            'FLUSH_SOURCE_LOST',
            `flush ${flushId}: its Redis hash vanished before the commit (Redis lost its data?); rolled back, the counter replays from MySQL's offsets`,
            { retriable: true },
          );
        }
        return { alreadyApplied: false, javRows, unknownIds };
      });
    } catch (err) {
      if ((err as { code?: string }).code === 'ER_DUP_ENTRY' && (await this.isApplied(flushId)))
        return { alreadyApplied: true, javRows: 0, unknownIds: [] };
      throw err;
    }
  }

  /** The per-user states behind the deltas, by the one rule of movie_user_state (the newer change wins). */
  private async saveStates(trx: Knex.Transaction, states: readonly UserState[]): Promise<void> {
    for (const chunk of chunks(states, this.opts.mysqlChunkRows)) {
      await trx.raw(
        `INSERT INTO movie_user_state (facet, jav_id, user_id, value, event_id, event_at) VALUES ${chunk.map(() => '(?, ?, ?, ?, ?, ?)').join(', ')} ${USER_STATE_UPSERT_TAIL}`,
        chunk.flatMap((st) => [st.facet, st.javId, st.userId, st.value, st.eventId, new Date(st.at)]),
      );
    }
  }

  // Temp table + UPDATE … JOIN: O(n log n). `SET views = views + CASE id WHEN …` is O(n²) per
  // statement on MariaDB: 10.9 s for 100k rows in 1,000-row chunks vs 2.0 s for this.
  private async addDeltas(trx: Knex.Transaction, flush: ParsedFlush): Promise<{ javRows: number; unknownIds: number[] }> {
    let javRows = 0;
    const unknownIds: number[] = [];
    if (flush.movies.length === 0) return { javRows, unknownIds };
    await trx.raw(`DROP TEMPORARY TABLE IF EXISTS ${TEMP_TABLE}`);
    await trx.raw(
      `CREATE TEMPORARY TABLE ${TEMP_TABLE} (id BIGINT UNSIGNED NOT NULL PRIMARY KEY, ${METRICS.map((m) => `${m} BIGINT NOT NULL`).join(', ')}) ENGINE=MEMORY`,
    );
    try {
      for (const chunk of chunks(flush.movies, this.opts.mysqlChunkRows)) {
        await trx.raw(insertDeltasSql(TEMP_TABLE, chunk));
        const [res] = (await trx.raw(this.updateSql())) as [{ affectedRows: number }];
        // mysql2 connects with FOUND_ROWS: affectedRows counts matched rows, so a gap means missing movies.
        javRows += res.affectedRows;
        if (res.affectedRows < chunk.length) {
          const id = q(this.catalog.movies.id);
          const [rows] = (await trx.raw(
            `SELECT d.id FROM ${TEMP_TABLE} d LEFT JOIN ${this.catalog.sql('movies')} j ON j.${id} = d.id WHERE j.${id} IS NULL`,
          )) as [{ id: number | string }[]];
          unknownIds.push(...rows.map((r) => Number(r.id)));
        }
        await trx.raw(`DELETE FROM ${TEMP_TABLE}`);
      }
    } finally {
      await trx.raw(`DROP TEMPORARY TABLE IF EXISTS ${TEMP_TABLE}`);
    }
    return { javRows, unknownIds };
  }

  /**
   * Sets display = MySQL + pending for the fields, one atomic script per chunk; returns keys set.
   * The MySQL read of the next chunk overlaps the script of this one: the two cost about the same
   * (~12 ms each per 3,000 keys), so the overlap nearly halves the step.
   */
  async realign(fields: readonly CounterField[]): Promise<number> {
    const parts = chunks(fields, this.opts.realignChunkKeys);
    const read = (i: number): Promise<MovieCounts> | undefined => {
      if (i >= parts.length) return undefined;
      const p = this.countsOf(parts[i]!);
      p.catch(() => undefined); // awaited below; this only keeps a read left behind by a failed script from crashing the process
      return p;
    };
    let set = 0;
    let next = read(0);
    for (let i = 0; i < parts.length; i++) {
      const counts = await next!;
      next = read(i + 1);
      const { keys, argv } = realignArgs(
        parts[i]!,
        counts,
        (f) => this.catalog.keys.display(f.metric, f.id),
        (f) => counterKeys.pendingField(f.metric, f.id),
      );
      set += await this.redis.tallyRealign(keys.length + 1, counterKeys.pending, ...keys, ...argv);
    }
    return set;
  }

  /** The movies' counter columns as the catalog maps them (the app's names, Tally's arithmetic). */
  private updateSql(): string {
    const m = this.catalog.movies;
    const c = (metric: Metric) => `j.${q(m.counts[metric])} = j.${q(m.counts[metric])} + d.${metric}`;
    return `UPDATE ${this.catalog.sql('movies')} j JOIN ${TEMP_TABLE} d ON d.id = j.${q(m.id)}
           SET ${METRICS.map(c).join(', ')}, j.${q(m.countsUpdatedAt)} = NOW(3)`;
  }

  private async countsOf(fields: readonly CounterField[]): Promise<MovieCounts> {
    // Ids are integers parsed and checked by parseFlushHash: inlined like the deltas.
    const ids = [...new Set(fields.map((f) => f.id))];
    const id = q(this.catalog.movies.id);
    const [rows] = (await this.db.raw(
      `SELECT m.${id} AS id, ${this.catalog.movieCountsSelect('m')} FROM ${this.catalog.sql('movies')} m WHERE m.${id} IN (${ids.join(',')})`,
    )) as [({ id: number } & Record<Metric, number | string>)[]];
    return new Map(rows.map((r) => [Number(r.id), Object.fromEntries(METRICS.map((m) => [m, Number(r[m])])) as Record<Metric, number>]));
  }

  /**
   * Deletes a taken hash and its registry entry together (MULTI), so neither outlives the other.
   * UNLINK: a 100k-field hash is freed in the background instead of blocking Redis while DEL frees it.
   */
  async cleanup(flushId: string): Promise<void> {
    await this.redis.multi().unlink(counterKeys.flushing(flushId)).srem(counterKeys.flushes, flushId).exec();
  }
}
