import type Redis from 'ioredis';
import type { Knex } from 'knex';
import type { EventType, TopicNames } from '@tally/events';
import type { BatchOutcome, PartitionBatch } from '@tally/kafka';
import { classifyStoreError, TallyError, type Logger } from '@tally/runtime';
import { APPLY_SCRIPT } from './apply-script';
import {
  effectOf,
  featuredKeysToDelete,
  isStateType,
  NO_STATE,
  stateEffectOf,
  stateText,
  type CounterEffect,
  type StateEffect,
  type CounterEvent,
} from './handler';
import { counterKeys, type AppKeys, type Metric } from '@tally/layout';
import { q, type Catalog } from '@tally/catalog';

/** No seed read: the script checks that each key and state exists (apply-script.ts, seed ''). */
const NONE: ReadonlyMap<string, string> = new Map();

type ApplyReply = ['ok', number, number, number] | ['conflict', string] | ['need_seed', string];

interface RedisWithApply extends Redis {
  tallyApply(
    applied: string,
    pending: string,
    flushes: string,
    generation: string,
    realign: string,
    ...args: (string | number)[]
  ): Promise<ApplyReply>;
}

/**
 * The apply script's packed arguments (apply-script.ts, A): per count effect 5 strings, the number of
 * state effects, per state effect 14. Every value is a string, as protocol arguments were, so the
 * script's tonumber and concatenations see what they saw before.
 */
export function applyArguments(
  effects: readonly CounterEffect[],
  states: readonly StateEffect[],
  keys: AppKeys,
  seeds: ReadonlyMap<string, string>,
  stateSeeds: ReadonlyMap<string, string>,
): string[] {
  const a: string[] = [];
  for (const e of effects) {
    const display = keys.display(e.metric, e.javId);
    a.push(counterKeys.seen(e.eventId), display, counterKeys.pendingField(e.metric, e.javId), String(e.delta), seeds.get(display) ?? '');
  }
  a.push(String(states.length));
  for (const e of states) {
    a.push(
      counterKeys.state(e.facet, e.javId),
      String(e.userId),
      String(e.at),
      e.eventId,
      String(e.value),
      counterKeys.pendingStateField(e.facet, e.javId, e.userId),
      stateSeeds.get(`${e.facet}:${e.javId}:${e.userId}`) ?? '',
      e.kind,
    );
    for (let i = 0; i < 2; i++) {
      const metric = e.metrics[i];
      if (metric === undefined) a.push('', '', '');
      else {
        const display = keys.display(metric, e.javId);
        a.push(display, counterKeys.pendingField(metric, e.javId), seeds.get(display) ?? '');
      }
    }
  }
  return a;
}

/**
 * Applies partition chunks to Redis exactly once (see apply-script.ts) and invalidates the featured
 * cache. Progress per partition lives in Redis, atomically with the counts; when Redis has none
 * (first run, or Redis lost its data) the resume point is the offset the flusher recorded in MySQL.
 */
export class CounterSink {
  private readonly redis: RedisWithApply;
  /** Last applied offset per partition as read from Redis ('' = none), refreshed on conflict. */
  private readonly applied = new Map<string, string>();
  private readonly rewound = new Set<string>();
  /** Partitions whose chunks read their seeds before the script: the last one met a missing key or state. */
  private readonly seeding = new Set<string>();

  constructor(
    redis: Redis,
    private readonly db: Knex,
    private readonly names: TopicNames,
    private readonly opts: { dedupTtlSeconds: number },
    private readonly logger: Logger,
    private readonly catalog: Catalog,
  ) {
    redis.defineCommand('tallyApply', { numberOfKeys: 5, lua: APPLY_SCRIPT });
    this.redis = redis as RedisWithApply;
  }

  async handle(batch: PartitionBatch<CounterEvent>): Promise<BatchOutcome> {
    try {
      const type = this.names.eventTypeFor(batch.topic);
      if (type && type.startsWith('featured.')) return await this.invalidateFeatured(batch);
      return await this.count(batch, type!);
    } catch (err) {
      return { kind: 'retry', error: classifyStoreError(err) };
    }
  }

  /** Where a newly assigned partition resumes: the counter's own progress (Redis, else MySQL). */
  async resumeFrom(topic: string, partition: number): Promise<string | undefined> {
    const type = this.names.eventTypeFor(topic);
    if (!type || type.startsWith('featured.')) return undefined; // cache invalidation keeps no progress
    this.applied.delete(counterKeys.appliedField(topic, partition)); // re-read: another member may have advanced it
    return String((await this.progress(topic, partition)).resumeAt);
  }

  private async invalidateFeatured(batch: PartitionBatch<CounterEvent>): Promise<BatchOutcome> {
    const keys = new Set(
      batch.messages.flatMap((m) => {
        const e = m.value;
        switch (e.type) {
          case 'featured.item.created':
          case 'featured.item.updated':
          case 'featured.item.removed':
            return featuredKeysToDelete(e.payload, this.catalog.keys);
          default:
            // The topic is a featured one, so its validated events are too; anything else moves no cache.
            return [];
        }
      }),
    );
    if (keys.size === 0) return { kind: 'done' }; // a chunk of poison only    // One atomic step: the caches go and the version moves, so a rebuild that read MySQL before this
    // point (query-api compares the version) cannot put the old list back.
    await this.redis
      .multi()
      .del(...keys)
      .incr(this.catalog.keys.featuredVersion)
      .exec();
    return { kind: 'done' };
  }

  private async count(batch: PartitionBatch<CounterEvent>, type: EventType): Promise<BatchOutcome> {
    const field = counterKeys.appliedField(batch.topic, batch.partition);
    for (let attempt = 0; attempt < 5; attempt++) {
      const progress = await this.progress(batch.topic, batch.partition);
      // The chunk's offsets as fetched (dead-lettered messages included): poison is not a gap.
      const first = BigInt(batch.firstOffset);
      const last = BigInt(batch.lastOffset);
      if (progress.resumeAt < first && !this.rewound.has(field)) {
        // Redis lost this partition's state: what it had counted since the last flush must be re-read.
        // Once per loss: if the log no longer holds those offsets (retention), the next chunk goes on.
        this.rewound.add(field);
        this.logger.warn(
          { topic: batch.topic, partition: batch.partition, from: String(progress.resumeAt), fetched: String(first) },
          'counter state missing in Redis: rewinding to the offset recorded in MySQL',
        );
        // Redis lost every partition's state at once, not only this one's.
        return { kind: 'rewind', offset: String(progress.resumeAt), everyPartition: true };
      }
      // Offsets ascend: when the first is not yet counted, none is (no BigInt per message).
      const fresh =
        first >= progress.resumeAt || batch.messages.length === 0 || BigInt(batch.messages[0]!.offset) >= progress.resumeAt
          ? batch.messages
          : batch.messages.filter((m) => BigInt(m.offset) >= progress.resumeAt);
      if (fresh.length < batch.messages.length) batch.reportReprocessed(batch.messages.length - fresh.length);
      if (last < progress.resumeAt) return { kind: 'done' };
      const effects: CounterEffect[] = [];
      const states: StateEffect[] = [];
      for (const m of fresh) {
        const { payload } = m.value;
        // Every counted type is about a movie; an event without jav_id (not on a counted topic) moves nothing.
        if (!('jav_id' in payload)) continue;
        const state = stateEffectOf(type, m.offset, payload);
        if (state) states.push(state);
        else if (!isStateType(type)) {
          const e = effectOf(type, m.offset, payload);
          if (e) effects.push(e);
        }
      }
      const keys = this.catalog.keys;
      // Optimistic: in steady state every display key and user state is in Redis, and the script
      // itself refuses ('need_seed', before any write) a chunk that meets a missing one. Reading
      // them first cost two round trips per chunk; they are read only after a refusal, and for this
      // partition's next chunks until a read finds nothing missing.
      const read = this.seeding.has(field);
      const { seeds, generation } = read
        ? await this.seedsFor([...effects, ...states.flatMap((e) => e.metrics.map((metric) => ({ metric, javId: e.javId })))])
        : { seeds: NONE, generation: '' };
      const stateSeeds = read ? await this.stateSeedsFor(states) : NONE;
      if (read && seeds.size === 0 && stateSeeds.size === 0) this.seeding.delete(field);
      const reply = await this.redis.tallyApply(
        counterKeys.applied,
        counterKeys.pending,
        counterKeys.flushes,
        counterKeys.flushGeneration,
        counterKeys.realign,
        field,
        progress.redisValue,
        String(last),
        counterKeys.pendingOffsetField(batch.topic, batch.partition),
        this.opts.dedupTtlSeconds,
        effects.length,
        JSON.stringify(applyArguments(effects, states, keys, seeds, stateSeeds)),
        generation,
      );
      if (reply[0] === 'ok') {
        this.applied.set(field, String(last));
        // Progress is in Redis again: a later loss of Redis state may rewind again.
        this.rewound.delete(field);
        if (reply[2] > 0) batch.reportReprocessed(reply[2]);
        return { kind: 'done' };
      }
      // conflict: another member advanced the partition (rebalance) — re-read and skip what it applied.
      // need_seed: a display key or state is missing (not read, or gone since the read) — read them.
      if (reply[0] === 'need_seed') this.seeding.add(field);
      this.applied.delete(field);
      // A refused optimistic chunk is routine (a movie's first count); a conflict is worth a line.
      if (reply[0] === 'conflict') this.logger.info({ topic: batch.topic, partition: batch.partition, reply }, 'counter apply retried');
      else this.logger.debug({ topic: batch.topic, partition: batch.partition, reply }, 'counter apply retried with seeds');
    }
    throw new TallyError('COUNTER_APPLY_CONTENDED', `could not apply ${batch.topic}[${batch.partition}] after 5 tries`, {
      retriable: true,
    });
  }

  /** Resume point (first offset not yet counted) and the raw Redis value the script compares with. */
  private async progress(topic: string, partition: number): Promise<{ resumeAt: bigint; redisValue: string }> {
    const field = counterKeys.appliedField(topic, partition);
    let redisValue = this.applied.get(field);
    if (redisValue === undefined) {
      redisValue = (await this.redis.hget(counterKeys.applied, field)) ?? '';
      this.applied.set(field, redisValue);
    }
    if (redisValue !== '') return { resumeAt: BigInt(redisValue) + 1n, redisValue };
    const row = await this.db('counter_offsets').where({ topic, partition }).first<{ offset: number | string } | undefined>('offset');
    return { resumeAt: row ? BigInt(row.offset) + 1n : 0n, redisValue };
  }

  /**
   * MySQL states (movie_user_state) for users whose state is not in Redis: a first change since the
   * backfill, or Redis emptied (then the counter replays from the flusher's offsets, and MySQL holds
   * exactly the states of what it flushed). Key `facet:javId:userId` → `at|eventId|value`, or NO_STATE.
   */
  private async stateSeedsFor(states: StateEffect[]): Promise<Map<string, string>> {
    const seeds = new Map<string, string>();
    if (states.length === 0) return seeds;
    const unique = [...new Map(states.map((s) => [`${s.facet}:${s.javId}:${s.userId}`, s] as const)).entries()];
    const pipe = this.redis.pipeline();
    for (const [, s] of unique) pipe.hexists(counterKeys.state(s.facet, s.javId), String(s.userId));
    const exists = ((await pipe.exec()) ?? []).map(([err, v]) => {
      if (err) throw err;
      return v === 1;
    });
    const missing = unique.filter((_u, i) => !exists[i]);
    if (missing.length === 0) return seeds;
    for (const [k] of missing) seeds.set(k, NO_STATE);
    const [rows] = (await this.db.raw(
      `SELECT facet, jav_id, user_id, value, event_at, event_id FROM movie_user_state WHERE (facet, jav_id, user_id) IN (${missing.map(() => '(?, ?, ?)').join(', ')})`,
      missing.flatMap(([, s]) => [s.facet, s.javId, s.userId]),
    )) as [{ facet: string; jav_id: number | string; user_id: number | string; value: number; event_at: Date; event_id: string | null }[]];
    for (const r of rows)
      seeds.set(
        `${r.facet}:${Number(r.jav_id)}:${Number(r.user_id)}`,
        stateText({ at: r.event_at.getTime(), eventId: r.event_id?.toLowerCase() ?? null, value: Number(r.value) }),
      );
    return seeds;
  }

  /**
   * MySQL values for display keys missing in Redis (a new movie, or Redis emptied), and the flush
   * generation read before MySQL was: the script notes a seed a flush may have raced (noteReseedLua).
   */
  private async seedsFor(effects: { metric: Metric; javId: number }[]): Promise<{ seeds: Map<string, string>; generation: string }> {
    const appKeys = this.catalog.keys;
    const pairs = new Map(effects.map((e) => [appKeys.display(e.metric, e.javId), e] as const));
    const seeds = new Map<string, string>();
    if (pairs.size === 0) return { seeds, generation: '' };
    const keys = [...pairs.keys()];
    const [generation, ...present] = await this.redis.mget(counterKeys.flushGeneration, ...keys);
    const missing = keys.filter((_k, i) => present[i] === null).map((k) => pairs.get(k)!);
    if (missing.length === 0) return { seeds, generation: generation ?? '' };
    const ids = [...new Set(missing.map((e) => e.javId))];
    const m = this.catalog.movies;
    const [rows] = (await this.db.raw(
      `SELECT m.${q(m.id)} AS id, ${this.catalog.movieCountsSelect('m')} FROM ${this.catalog.sql('movies')} m WHERE m.${q(m.id)} IN (${ids.map(() => '?').join(', ')})`,
      ids,
    )) as [({ id: number } & Record<Metric, number | string>)[]];
    const byId = new Map(rows.map((r) => [Number(r.id), r]));
    // A movie MySQL does not know (yet) starts at 0; the flusher's UPDATE then simply finds no row.
    for (const e of missing) seeds.set(appKeys.display(e.metric, e.javId), String(Number(byId.get(e.javId)?.[e.metric] ?? 0)));
    return { seeds, generation: generation ?? '' };
  }
}
