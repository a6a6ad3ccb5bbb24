import type Redis from 'ioredis';
import type { Knex } from 'knex';
import type { EventType, TopicNames } from '@tally/events';
import type { BatchOutcome, PartitionBatch } from '@tally/kafka';
import { TallyError, type Logger } from '@tally/runtime';
import { APPLY_SCRIPT } from './apply-script';
import { effectOf, featuredKeysToDelete, type CounterEffect } from './handler';
import { DEFAULT_APP_KEYS, counterKeys, type Metric } from '@tally/layout';

type Decoded = Record<string, unknown> & { event_id: string };
type ApplyReply = ['ok', number, number] | ['conflict', string] | ['need_seed', string];

interface RedisWithApply extends Redis {
  tallyApply(applied: string, pending: string, ...args: (string | number)[]): Promise<ApplyReply>;
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

  constructor(
    redis: Redis,
    private readonly db: Knex,
    private readonly names: TopicNames,
    private readonly opts: { dedupTtlSeconds: number },
    private readonly logger: Logger,
  ) {
    redis.defineCommand('tallyApply', { numberOfKeys: 2, lua: APPLY_SCRIPT });
    this.redis = redis as RedisWithApply;
  }

  async handle(batch: PartitionBatch<Decoded>): Promise<BatchOutcome> {
    try {
      const type = this.names.eventTypeFor(batch.topic);
      if (type && type.startsWith('featured.')) return await this.invalidateFeatured(batch);
      return await this.count(batch, type!);
    } catch (err) {
      return { kind: 'retry', error: err };
    }
  }

  /** Where a newly assigned partition resumes: the counter's own progress (Redis, else MySQL). */
  async resumeFrom(topic: string, partition: number): Promise<string | undefined> {
    const type = this.names.eventTypeFor(topic);
    if (!type || type.startsWith('featured.')) return undefined; // cache invalidation keeps no progress
    this.applied.delete(counterKeys.appliedField(topic, partition)); // re-read: another member may have advanced it
    return String((await this.progress(topic, partition)).resumeAt);
  }

  private async invalidateFeatured(batch: PartitionBatch<Decoded>): Promise<BatchOutcome> {
    const keys = new Set(batch.messages.flatMap((m) => featuredKeysToDelete(m.value as unknown as { group: string; previous_group?: string | null })));
    if (keys.size === 0) return { kind: 'done' }; // a chunk of poison only    // One atomic step: the caches go and the version moves, so a rebuild that read MySQL before this
    // point (query-api compares the version) cannot put the old list back.
    await this.redis.multi().del(...keys).incr(DEFAULT_APP_KEYS.featuredVersion).exec();
    return { kind: 'done' };
  }

  private async count(batch: PartitionBatch<Decoded>, type: EventType): Promise<BatchOutcome> {
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
        this.logger.warn({ topic: batch.topic, partition: batch.partition, from: String(progress.resumeAt), fetched: String(first) }, 'counter state missing in Redis: rewinding to the offset recorded in MySQL');
        // Redis lost every partition's state at once, not only this one's.
        return { kind: 'rewind', offset: String(progress.resumeAt), everyPartition: true };
      }
      const fresh = batch.messages.filter((m) => BigInt(m.offset) >= progress.resumeAt);
      if (fresh.length < batch.messages.length) batch.reportReprocessed(batch.messages.length - fresh.length);
      if (last < progress.resumeAt) return { kind: 'done' };
      const effects = fresh.map((m) => effectOf(type, m.offset, m.value as never)).filter((e): e is CounterEffect => e !== undefined);
      const seeds = await this.seedsFor(effects);
      const reply = await this.redis.tallyApply(counterKeys.applied, counterKeys.pending, field, progress.redisValue, String(last),
        counterKeys.pendingOffsetField(batch.topic, batch.partition), this.opts.dedupTtlSeconds, effects.length,
        ...effects.flatMap((e) => [counterKeys.seen(e.eventId), DEFAULT_APP_KEYS.display(e.metric, e.javId), counterKeys.pendingField(e.metric, e.javId), e.delta, seeds.get(DEFAULT_APP_KEYS.display(e.metric, e.javId)) ?? '']));
      if (reply[0] === 'ok') {
        this.applied.set(field, String(last));
        // Progress is in Redis again: a later loss of Redis state may rewind again.
        this.rewound.delete(field);
        if (reply[2] > 0) batch.reportReprocessed(reply[2]);
        return { kind: 'done' };
      }
      // conflict: another member advanced the partition (rebalance) — re-read and skip what it applied.
      // need_seed: a display key vanished between our read and the script — read MySQL again.
      this.applied.delete(field);
      this.logger.info({ topic: batch.topic, partition: batch.partition, reply }, 'counter apply retried');
    }
    throw new TallyError('COUNTER_APPLY_CONTENDED', `could not apply ${batch.topic}[${batch.partition}] after 5 tries`, { retriable: true });
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

  /** MySQL values for display keys missing in Redis (a new movie, or Redis emptied). */
  private async seedsFor(effects: CounterEffect[]): Promise<Map<string, string>> {
    const pairs = new Map(effects.map((e) => [DEFAULT_APP_KEYS.display(e.metric, e.javId), e] as const));
    const seeds = new Map<string, string>();
    if (pairs.size === 0) return seeds;
    const keys = [...pairs.keys()];
    const present = await this.redis.mget(...keys);
    const missing = keys.filter((_k, i) => present[i] === null).map((k) => pairs.get(k)!);
    if (missing.length === 0) return seeds;
    const rows = await this.db('jav')
      .whereIn('id', [...new Set(missing.map((e) => e.javId))])
      .select<{ id: number; views: number; downloads: number; likes: number }[]>('id', 'views', 'downloads', 'likes');
    const byId = new Map(rows.map((r) => [Number(r.id), r]));
    // A movie MySQL does not know (yet) starts at 0; the flusher's UPDATE then simply finds no row.
    for (const e of missing) seeds.set(DEFAULT_APP_KEYS.display(e.metric, e.javId), String(Number(byId.get(e.javId)?.[e.metric as Metric] ?? 0)));
    return seeds;
  }
}
