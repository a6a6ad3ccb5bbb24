import type { Batch, EachBatchPayload, KafkaMessage } from 'kafkajs';
import { errorCode, errorMessage, TallyError, type Logger } from '@tally/runtime';
import { backoffMs, sleepWithTicks } from './backoff';
import { PoisonMessageError, type Decoded } from './codec';
import { deadLetterRecord, type DeadLetter } from './dead-letter';
import type { RunnerMetrics } from './runner-metrics';
import type { ConsumerRunnerOptions, DecodedMessage } from './runner-types';

/** Shutting down or the partition was lost: the unfinished chunk is left uncommitted. */
export class Stopped extends Error {}

/** The sink asked to re-read from `offset` (see BatchOutcome `rewind`). */
export class Rewind extends Error {
  constructor(
    readonly offset: string,
    readonly everyPartition = false,
  ) {
    super(`rewind to ${offset}`);
  }
}

/**
 * The part of kafkajs' eachBatch payload a chunk needs. A narrower type than EachBatchPayload so a
 * reader that is not the group runner can drive the same steps with its own commit.
 */
export type ChunkPayload = Pick<EachBatchPayload, 'heartbeat' | 'isRunning' | 'isStale' | 'resolveOffset' | 'commitOffsetsIfNecessary'> & {
  batch: Pick<Batch, 'topic' | 'partition' | 'highWatermark'>;
};

export type ChunkProcessorOptions<T> = Pick<
  ConsumerRunnerOptions<T>,
  | 'service'
  | 'codec'
  | 'producer'
  | 'deadLetterTopic'
  | 'handle'
  | 'validate'
  | 'receivedAtOf'
  | 'retryInitialMs'
  | 'retryMaxMs'
  | 'heartbeatIntervalMs'
  | 'handleEmptyChunks'
  | 'onFatal'
>;

/**
 * One chunk of a partition, start to end: decode → validate → handle → dead letters → commit.
 *
 * Offsets: kafkajs' resolveOffset is last-write-wins, so a chunk never resolves ahead — it commits
 * `last offset + 1` only after the handler's effects and the chunk's dead letters are durable. A
 * crash at any point therefore replays at most the unfinished chunk, which idempotent sinks absorb.
 */
export class ChunkProcessor<T> {
  private readonly committed = new Map<string, bigint>();
  private readonly partitionLogs = new Map<string, Logger>();

  constructor(
    private readonly o: ChunkProcessorOptions<T>,
    private readonly m: RunnerMetrics,
    private readonly log: Logger,
    /** The owner's shutdown flag: a retry stops waiting once it is set. */
    private readonly stopping: () => boolean,
  ) {}

  async process(p: ChunkPayload, messages: KafkaMessage[]): Promise<void> {
    const { batch } = p;
    const t0 = process.hrtime.bigint();
    const labels = { topic: batch.topic };
    this.countReprocessed(batch, messages);
    this.m.consumed.inc(labels, messages.length);

    const valid: DecodedMessage<T>[] = [];
    const dead: { msg: KafkaMessage; dl: DeadLetter }[] = [];
    for (const msg of messages) {
      // Synchronous for a schema id seen before; only a first sighting awaits the registry (with retries).
      const r =
        decodeKnownMessage(this.o, batch.topic, batch.partition, msg) ??
        (await this.retrying(p, 'decode', () => this.decodeOne(batch, msg)));
      if ('dl' in r) dead.push({ msg, dl: r.dl });
      else valid.push(r.decoded);
    }

    if (valid.length > 0 || this.o.handleEmptyChunks) {
      const outcome = await this.retrying(p, 'handle', async () => {
        const out = await this.beating(p, () =>
          this.o.handle({
            topic: batch.topic,
            partition: batch.partition,
            messages: valid,
            firstOffset: messages[0]!.offset,
            lastOffset: messages[messages.length - 1]!.offset,
            heartbeat: () => p.heartbeat(),
            reportReprocessed: (n) => this.m.reprocessed.inc(labels, n),
          }),
        );
        if (out.kind === 'retry') throw out.error;
        return out;
      });
      if (outcome.kind === 'rewind') throw new Rewind(outcome.offset, outcome.everyPartition);
      for (const d of outcome.deadLetters ?? []) {
        const msg = messages.find((m) => m.offset === d.offset);
        if (msg) dead.push({ msg, dl: { reason: d.reason, detail: d.detail, step: 'handle' } });
      }
    }

    if (dead.length > 0) {
      const records = dead.map(({ msg, dl }) =>
        deadLetterRecord(this.o.deadLetterTopic, this.o.service, { ...msg, topic: batch.topic, partition: batch.partition }, dl),
      );
      // If the dead-letter topic cannot take them, the offset must not move: retry, never skip. Each
      // try waits for its request's real outcome, so a slow one is never doubled by the next.
      await this.retrying(p, 'dead-letter', () => this.beating(p, () => this.o.producer.send(records, { untilSettled: true })));
      for (const { dl } of dead) this.m.deadLettered.inc({ ...labels, reason: dl.reason });
    }

    const last = messages[messages.length - 1]!.offset;
    p.resolveOffset(last);
    const next = (BigInt(last) + 1n).toString();
    // The payload's commit, not consumer.commitOffsets(): the latter silently does nothing once
    // stop() began, which would lose the commit of the chunk a SIGTERM lets us finish.
    const offsets = { topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: next }] }] };
    await this.retrying(p, 'commit', () => p.commitOffsetsIfNecessary(offsets), { duringShutdown: 3 });
    this.committed.set(`${batch.topic}:${batch.partition}`, BigInt(next));
    this.observe(batch, valid, messages.length - dead.length, last, t0);
    await p.heartbeat();
  }

  /** One child logger per partition, so every line says where it happened. */
  logFor(topic: string, partition: number): Logger {
    const k = `${topic}:${partition}`;
    let l = this.partitionLogs.get(k);
    if (!l) this.partitionLogs.set(k, (l = this.log.child({ topic, partition })));
    return l;
  }

  /**
   * Runs `fn` while heartbeating in the background. kafkajs heartbeats only when asked between
   * awaits, so one sink write slower than the session timeout (a locked table, a frozen MySQL) would
   * otherwise cost the membership: the group rebalances, the chunk is redelivered to another member,
   * which is just as slow — a rebalance storm. Heartbeat errors are left to the next awaited
   * heartbeat, which surfaces a rebalance the way kafkajs expects.
   */
  private async beating<R>(p: ChunkPayload, fn: () => Promise<R>): Promise<R> {
    const timer = setInterval(() => {
      p.heartbeat().catch(() => undefined);
    }, this.o.heartbeatIntervalMs ?? 3_000);
    try {
      return await fn();
    } finally {
      clearInterval(timer);
    }
  }

  private decodeOne(batch: ChunkPayload['batch'], msg: KafkaMessage): Promise<DecodeResult<T>> {
    return decodeMessage(this.o, batch.topic, batch.partition, msg);
  }

  /**
   * Runs `fn` until it succeeds, backing off between tries; gives up when the partition is lost
   * or, unless `duringShutdown` allows that many tries, when a shutdown began.
   */
  private async retrying<R>(p: ChunkPayload, step: string, fn: () => Promise<R>, opts: { duringShutdown?: number } = {}): Promise<R> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        // A coded error that says retrying cannot help (the app's schema lost a column the sink
        // writes, say) stops the service with its message instead of retrying the chunk for ever.
        if (err instanceof TallyError && !err.retriable) {
          this.o.onFatal(err);
          throw new Stopped();
        }
        const shuttingDown = () => this.stopping() || !p.isRunning();
        const cancelled = () => p.isStale() || (shuttingDown() && attempt + 1 >= (opts.duringShutdown ?? 0));
        if (cancelled()) throw new Stopped();
        this.m.retries.inc({ topic: p.batch.topic, step, code: errorCode(err) });
        const wait = backoffMs(attempt, this.o.retryInitialMs ?? 200, this.o.retryMaxMs ?? 10_000);
        this.logFor(p.batch.topic, p.batch.partition).warn({ step, attempt, waitMs: wait, err: errorMessage(err) }, 'retrying');
        await sleepWithTicks(wait, 1_000, () => p.heartbeat(), cancelled);
        if (cancelled()) throw new Stopped();
      }
    }
  }

  private countReprocessed(batch: ChunkPayload['batch'], messages: KafkaMessage[]): void {
    const done = this.committed.get(`${batch.topic}:${batch.partition}`);
    if (done === undefined) return;
    const again = messages.filter((m) => BigInt(m.offset) < done).length;
    if (again > 0) this.m.reprocessed.inc({ topic: batch.topic }, again);
  }

  private observe(batch: ChunkPayload['batch'], valid: DecodedMessage<T>[], processed: number, last: string, t0: bigint): void {
    const labels = { topic: batch.topic };
    this.m.processed.inc(labels, processed);
    this.m.batchSeconds.observe(labels, Number(process.hrtime.bigint() - t0) / 1e9);
    const lag = Number(BigInt(batch.highWatermark) - BigInt(last) - 1n);
    this.m.lag.set({ topic: batch.topic, partition: String(batch.partition) }, Math.max(0, lag));
    const now = Date.now();
    const receivedAtOf = this.o.receivedAtOf ?? receivedAtOfEvent;
    for (const d of valid) {
      const ms = receivedAtOf(d.value);
      if (typeof ms === 'number') this.m.freshness.observe(labels, Math.max(0, now - ms) / 1000);
    }
  }
}

/**
 * Decodes one message and applies the sink's domain rules: the decoded message, or the dead letter
 * it is (poison bytes, an unknown schema id, a value `validate` refuses). Any other error (the
 * registry unreachable) is thrown: retriable, never a dead letter. Shared by the runner and by
 * readers that apply a sink themselves (`tally replay`), so both refuse the same messages.
 */
export async function decodeMessage<T>(
  o: Pick<ConsumerRunnerOptions<T>, 'codec' | 'validate'>,
  topic: string,
  partition: number,
  msg: KafkaMessage,
): Promise<DecodeResult<T>> {
  try {
    return checked(o, topic, partition, msg, await o.codec.decode(msg.value));
  } catch (err) {
    if (err instanceof PoisonMessageError) return { dl: { reason: err.reason, detail: err.message, step: 'decode' } };
    throw err; // registry unreachable: retriable
  }
}

type DecodeResult<T> = { decoded: DecodedMessage<T> } | { dl: DeadLetter };

/** decodeMessage without an await, for a schema id the codec has seen; undefined when it must ask the registry. */
export function decodeKnownMessage<T>(
  o: Pick<ConsumerRunnerOptions<T>, 'codec' | 'validate'>,
  topic: string,
  partition: number,
  msg: KafkaMessage,
): DecodeResult<T> | undefined {
  try {
    const d = o.codec.decodeKnown(msg.value);
    return d === undefined ? undefined : checked(o, topic, partition, msg, d);
  } catch (err) {
    if (err instanceof PoisonMessageError) return { dl: { reason: err.reason, detail: err.message, step: 'decode' } };
    // Anything else takes the awaited path, which retries it as it always did.
    return undefined;
  }
}

function checked<T>(
  o: Pick<ConsumerRunnerOptions<T>, 'validate'>,
  topic: string,
  partition: number,
  msg: KafkaMessage,
  { schemaId, value, writer }: Decoded,
): DecodeResult<T> {
  const v = o.validate ? o.validate(topic, value, writer) : { ok: true as const, value: value as T };
  if (!v.ok) return { dl: { reason: 'invalid_payload', detail: `${v.reason}: ${v.detail}`, step: 'validate' } };
  const decoded = {
    topic,
    partition,
    offset: msg.offset,
    key: msg.key?.toString('utf8') ?? null,
    value: v.value,
    schemaId,
    timestamp: msg.timestamp,
  };
  return { decoded };
}

/**
 * The event's server receive time for the freshness metric: `payload.received_at` of the one decoded
 * shape every consumer gets (`{ type, payload }`), or `received_at` of a bare record.
 */
function receivedAtOfEvent(value: unknown): number | undefined {
  const v = value as { payload?: { received_at?: unknown }; received_at?: unknown } | null;
  const ms = v?.payload?.received_at ?? v?.received_at;
  return typeof ms === 'number' ? ms : undefined;
}
