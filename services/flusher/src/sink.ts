import type Redis from 'ioredis';
import type { Knex } from 'knex';
import { counterKeys, METRICS, type Metric } from '@tally/layout';
import { q, USER_STATE_UPSERT_TAIL, type Catalog } from '@tally/catalog';
import { TallyError } from '@tally/runtime';
import {
  chunks,
  insertDeltasSql,
  metricsIn,
  parseFlushHash,
  realignArgs,
  type CounterField,
  type CountOf,
  type ParsedFlush,
  type UserState,
} from './handler';
import { REALIGN_SCRIPT, TAKE_REALIGN_SCRIPT, TAKE_SCRIPT } from './scripts';

interface RedisWithScripts extends Redis {
  tallyTake(pending: string, flushing: string, registry: string, generation: string, flushId: string): Promise<number>;
  tallyTakeRealign(realign: string, taken: string): Promise<number>;
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
// Re-align reads in flight (see realign): with the job lock's connection, 3 of MYSQL_POOL_SIZE's default 4; one is left for /readyz.
const READS_AHEAD = 2;

/** The flusher's I/O: the Redis side (take, read, re-align, clean up) and the MySQL transaction. */
export class FlushSink {
  private readonly redis: RedisWithScripts;

  constructor(
    redis: Redis,
    private readonly db: Knex,
    private readonly opts: SinkOptions,
    private readonly catalog: Catalog,
  ) {
    redis.defineCommand('tallyTake', { numberOfKeys: 4, lua: TAKE_SCRIPT });
    redis.defineCommand('tallyTakeRealign', { numberOfKeys: 2, lua: TAKE_REALIGN_SCRIPT });
    redis.defineCommand('tallyRealign', { lua: REALIGN_SCRIPT });
    this.redis = redis as RedisWithScripts;
  }

  /** Flush ids taken and not yet cleaned up: what a killed run left behind. */
  async leftovers(): Promise<string[]> {
    return (await this.redis.smembers(counterKeys.flushes)).sort();
  }

  async take(flushId: string): Promise<boolean> {
    return (
      (await this.redis.tallyTake(
        counterKeys.pending,
        counterKeys.flushing(flushId),
        counterKeys.flushes,
        counterKeys.flushGeneration,
        flushId,
      )) === 1
    );
  }

  /**
   * The display keys noted as seeded while a flush may have been in progress (noteReseedLua), taken
   * for re-aligning (TAKE_REALIGN_SCRIPT), as counter fields; [] when there are none.
   */
  async takeRealignSet(): Promise<CounterField[]> {
    if ((await this.redis.tallyTakeRealign(counterKeys.realign, counterKeys.realignTaken)) === 0) return [];
    const members: string[] = [];
    let cursor = '0';
    do {
      const [next, page] = await this.redis.sscan(counterKeys.realignTaken, cursor, 'COUNT', this.opts.readPageFields);
      for (const m of page) members.push(m, '0');
      cursor = next;
    } while (cursor !== '0');
    // The members are pending-hash field names: the same decoding (and its one copy per field).
    return parseFlushHash(members).fields;
  }

  /** Deletes the taken realign set once its keys are re-aligned. */
  async dropRealignSet(): Promise<void> {
    await this.redis.unlink(counterKeys.realignTaken);
  }

  /**
   * A taken hash as the flat `field, value…` list, page by page (HSCAN: no single reply blocks
   * Redis); undefined when it does not exist. Nobody writes a taken hash, so a field SCAN returns
   * twice has the same value both times: parseFlushHash keeps one.
   */
  async read(flushId: string): Promise<string[] | undefined> {
    const key = counterKeys.flushing(flushId);
    const out: string[] = [];
    let cursor = '0';
    do {
      const [next, flat] = await this.redis.hscan(key, cursor, 'COUNT', this.opts.readPageFields);
      for (const item of flat) out.push(item);
      cursor = next;
    } while (cursor !== '0');
    return out.length === 0 ? undefined : out;
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
        if (unknownIds.length > 0) {
          // Their deltas are dropped, so their display keys (the counter's 0 + deltas) must come back
          // to MySQL's nothing + pending: noted for this run's re-align, before the commit so that a
          // kill after it cannot skip them (a re-align after a rollback is harmless).
          const unknown = new Set(unknownIds);
          const fields = flush.fields.filter((f) => unknown.has(f.id)).map((f) => counterKeys.pendingField(f.metric, f.id));
          await this.redis.sadd(counterKeys.realign, ...fields);
        }
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
      `CREATE TEMPORARY TABLE ${TEMP_TABLE} (id BIGINT UNSIGNED NOT NULL PRIMARY KEY, ${METRICS.map((m) => `${m} BIGINT NOT NULL DEFAULT 0`).join(', ')}) ENGINE=MEMORY`,
    );
    try {
      for (const chunk of chunks(flush.movies, this.opts.mysqlChunkRows)) {
        // Only the metrics this chunk moves: adding 0 to the other columns is work for nothing.
        const metrics = metricsIn(chunk);
        if (metrics.length === 0) continue;
        await trx.raw(insertDeltasSql(TEMP_TABLE, chunk, metrics));
        const [res] = (await trx.raw(this.updateSql(metrics))) as [{ affectedRows: number }];
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
   * Only with no flush between take and clean-up (the run holds the job lock and calls it last).
   * Pipelined, because the MySQL read of a chunk costs about three times its script (~10 vs ~3.5 ms
   * per 3,000 keys): the reads of the next two chunks run while this one's arguments are built and
   * its script is sent, and a script is awaited only once the next one is sent. So at most two reads
   * and two scripts are in flight, whatever the flush's size, and each read still comes after the
   * commit, two chunks ahead of its own script.
   */
  async realign(fields: readonly CounterField[]): Promise<number> {
    const parts = chunks(fields, this.opts.realignChunkKeys);
    const started = <T>(p: Promise<T>): Promise<T> => {
      p.catch(() => undefined); // awaited below; this only keeps one left behind by an earlier failure from crashing the process
      return p;
    };
    const reads: (Promise<CountOf> | undefined)[] = parts.slice(0, READS_AHEAD).map((part) => started(this.countsOf(part)));
    let set = 0;
    let script: Promise<number> | undefined;
    for (let i = 0; i < parts.length; i++) {
      const countOf = await reads[i]!;
      reads[i] = undefined;
      if (i + READS_AHEAD < parts.length) reads.push(started(this.countsOf(parts[i + READS_AHEAD]!)));
      const { keys, pendingFields, values } = realignArgs(
        parts[i]!,
        countOf,
        (f) => this.catalog.keys.display(f.metric, f.id),
        (f) => counterKeys.pendingField(f.metric, f.id),
      );
      const previous = script;
      script = started(this.redis.tallyRealign(keys.length + 1, counterKeys.pending, ...keys, pendingFields, values));
      if (previous) set += await previous;
    }
    if (script) set += await script;
    return set;
  }

  /** The movies' counter columns as the catalog maps them (the app's names, Tally's arithmetic). */
  private updateSql(metrics: readonly Metric[]): string {
    const m = this.catalog.movies;
    const c = (metric: Metric) => `j.${q(m.counts[metric])} = j.${q(m.counts[metric])} + d.${metric}`;
    return `UPDATE ${this.catalog.sql('movies')} j JOIN ${TEMP_TABLE} d ON d.id = j.${q(m.id)}
           SET ${metrics.map(c).join(', ')}, j.${q(m.countsUpdatedAt)} = NOW(3)`;
  }

  /**
   * MySQL's counts of these fields' movies: only the metrics they name, rows kept as the driver's
   * arrays, not catalog.movieCountsSelect's every metric + counts_updated_at as objects (decoding
   * that DATETIME alone was 20 ms of a 100k-key re-align, an object per row as much again). Ids are
   * integers parsed and checked by parseFlushHash: inlined like the deltas.
   */
  private async countsOf(fields: readonly CounterField[]): Promise<CountOf> {
    const ids = new Set<number>();
    const named = new Set<Metric>();
    for (const f of fields) {
      ids.add(f.id);
      named.add(f.metric);
    }
    const metrics = METRICS.filter((metric) => named.has(metric));
    const column = Object.fromEntries(metrics.map((metric, k) => [metric, k + 1])) as Partial<Record<Metric, number>>;
    const m = this.catalog.movies;
    const id = q(m.id);
    const [rows] = (await this.db
      .raw(
        `SELECT ${id}, ${metrics.map((metric) => q(m.counts[metric])).join(', ')} FROM ${this.catalog.sql('movies')} WHERE ${id} IN (${[...ids].join(',')})`,
      )
      .options({ rowsAsArray: true })) as [(number | string)[][]];
    const byId = new Map<number, (number | string)[]>();
    for (const r of rows) byId.set(Number(r[0]), r);
    return (f) => {
      const row = byId.get(f.id);
      return row === undefined ? 0 : Number(row[column[f.metric]!]);
    };
  }

  /**
   * Deletes a taken hash and its registry entry together (MULTI), so neither outlives the other, and
   * moves the flush generation (a seed that read MySQL before this flush's commit is then noted).
   * UNLINK: a 100k-field hash is freed in the background instead of blocking Redis while DEL frees it.
   */
  async cleanup(flushId: string): Promise<void> {
    await this.redis
      .multi()
      .unlink(counterKeys.flushing(flushId))
      .srem(counterKeys.flushes, flushId)
      .incr(counterKeys.flushGeneration)
      .exec();
  }
}
