import type { Admin, Batch, Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import { errorCode, errorMessage, TallyError, type Logger, type ServiceMetrics } from '@tally/runtime';
import { backoffMs, sleepWithTicks } from './backoff';
import { PoisonMessageError, type RegistryCodec } from './codec';
import { deadLetterRecord, type DeadLetter } from './dead-letter';
import { consumerLag } from './lag';
import { createRunnerMetrics, type RunnerMetrics } from './runner-metrics';
import type { TallyProducer } from './producer';

export interface DecodedMessage<T> {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: T;
  schemaId: number;
  timestamp: string;
}

export interface PartitionBatch<T> {
  topic: string;
  partition: number;
  /** The valid messages of the chunk (dead-lettered ones are not here). */
  messages: DecodedMessage<T>[];
  /** First and last offset of the chunk as fetched, dead-lettered messages included: a sink that keeps its own progress records `lastOffset`, so poison does not look like a gap. */
  firstOffset: string;
  lastOffset: string;
  /** Keep group membership during long work (kafkajs heartbeats only between batches otherwise). */
  heartbeat(): Promise<void>;
  /** Sinks that skip already-applied messages report them here (metric: reprocessed). */
  reportReprocessed(count: number): void;
}

/**
 * What a handler returns instead of throwing. `done`: every message's effect is durable, except the
 * ones listed as dead letters (invalid values the sink refused). `retry`: nothing may be assumed
 * durable; the runner retries the same messages with backoff and never dead-letters them.
 */
export type BatchOutcome =
  | { kind: 'done'; deadLetters?: { offset: string; reason: string; detail: string }[] }
  | { kind: 'retry'; error: unknown }
  /**
   * The sink's own progress is behind Kafka's (e.g. Redis lost its state): read again from `offset`.
   * `everyPartition`: the loss is not this partition's alone, so every partition this member owns is
   * moved back to the sink's resume point now — a partition that receives nothing new would otherwise
   * never notice, and what it had counted since the last durable point would stay lost.
   */
  | { kind: 'rewind'; offset: string; everyPartition?: boolean };

export type Validation<T> = { ok: true; value: T } | { ok: false; reason: string; detail: string };

export interface ConsumerRunnerOptions<T> {
  kafka: Kafka;
  service: string;
  groupId: string;
  topics: string[];
  codec: RegistryCodec;
  producer: TallyProducer;
  deadLetterTopic: string;
  logger: Logger;
  metrics: ServiceMetrics;
  handle: (batch: PartitionBatch<T>) => Promise<BatchOutcome>;
  /** Domain rules beyond the Avro schema; a refusal dead-letters the message with reason `invalid_payload`. */
  validate?: (topic: string, value: unknown) => Validation<T>;
  /** The event's server receive time (epoch ms) for the freshness metric; default: `value.received_at`. */
  receivedAtOf?: (value: T) => number | undefined;
  /** Messages per handler call; the offset is committed after each chunk (≈ progress granularity). */
  maxChunk?: number;
  retryInitialMs?: number;
  retryMaxMs?: number;
  sessionTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  partitionsConsumedConcurrently?: number;
  fromBeginning?: boolean;
  /**
   * For sinks that store their own progress (the truth, committed atomically with their effects):
   * where to resume a newly assigned partition. The runner seeks there, so a sink whose store lost
   * state (or is behind Kafka's commit) re-reads what it needs. Undefined: Kafka's commit is used.
   */
  resumeFrom?: (topic: string, partition: number) => Promise<string | undefined>;
  /**
   * How often the member asks the broker for its partitions' lag (committed vs end offset), so the
   * lag gauge keeps growing while the sink is stuck and no batch completes. 0 disables it.
   */
  lagRefreshMs?: number;
  /** Call `handle` even for a chunk whose messages were all dead-lettered (sinks that record progress per chunk). */
  handleEmptyChunks?: boolean;
  /** Called when kafkajs gives up (a crash it will not restart from): the service should exit non-zero. */
  onFatal: (err: unknown) => void;
}

class Stopped extends Error {}
class Rewind extends Error {
  constructor(
    readonly offset: string,
    readonly everyPartition = false,
  ) {
    super(`rewind to ${offset}`);
  }
}

/**
 * The one consumer loop every Tally consumer uses. It owns offsets, heartbeats, retries, dead
 * letters and shutdown; services only turn decoded messages into effects and say how it went.
 *
 * Offsets: kafkajs' resolveOffset is last-write-wins, so this runner never resolves ahead — it
 * processes a partition's batch in order, chunk by chunk, and commits `last offset + 1` of a chunk
 * only after the handler's effects and the chunk's dead letters are durable. A crash at any point
 * therefore replays at most the unfinished chunk, which idempotent sinks absorb.
 */
export class ConsumerRunner<T> {
  private consumer: Consumer;
  private readonly m: RunnerMetrics;
  private readonly log: Logger;
  private stopping = false;
  private joined = false;
  private joinedOnce = false;
  private readonly committed = new Map<string, bigint>();
  private readonly partitionLogs = new Map<string, Logger>();
  private assignment: Record<string, number[]> = {};
  private unchecked = new Set<string>();
  private lagTimer: NodeJS.Timeout | undefined;
  private admin: Admin | undefined;

  constructor(private readonly o: ConsumerRunnerOptions<T>) {
    this.log = o.logger.child({ component: 'consumer', group: o.groupId });
    this.m = createRunnerMetrics(o.metrics);
    this.consumer = this.createConsumer();
  }

  private createConsumer(): Consumer {
    const o = this.o;
    const consumer = o.kafka.consumer({
      groupId: o.groupId,
      sessionTimeout: o.sessionTimeoutMs ?? 30_000,
      heartbeatInterval: o.heartbeatIntervalMs ?? 3_000,
      rebalanceTimeout: 60_000,
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: 250,
      retry: { retries: 8, initialRetryTime: 300, maxRetryTime: 10_000 },
    });
    const { GROUP_JOIN, CRASH } = consumer.events;
    consumer.on(GROUP_JOIN, (e) => {
      // Every join after the first is a rebalance this member went through. kafkajs emits REBALANCING
      // only when a heartbeat hears of one; a member the coordinator expelled (its session expired)
      // rejoins silently, and that is the rebalance ops most need to see.
      if (this.joinedOnce) this.m.rebalances.inc();
      this.joinedOnce = true;
      this.joined = true;
      this.setAssignment(e.payload.memberAssignment);
      this.log.info({ assignment: e.payload.memberAssignment }, 'joined group');
      // Each newly assigned partition is checked against the sink's progress before its first chunk
      // (in onBatch, in order with its processing): an eager seek here would race with the fetches.
      this.unchecked = new Set(Object.entries(e.payload.memberAssignment).flatMap(([t, ps]) => ps.map((p) => `${t}:${p}`)));
    });
    consumer.on(CRASH, (e) => {
      this.log.error({ err: errorMessage(e.payload.error), restart: e.payload.restart }, 'consumer crashed');
      // Not a member until kafkajs has restarted it and it joined again (a broker outage): not ready.
      this.joined = false;
      if (e.payload.restart || this.stopping) return;
      // kafkajs gives up for good on errors it deems non-retriable, and some of those are only a
      // broker that is still restarting (no broker available, connection refused). Those are
      // recovered here, in-process, with a new consumer; anything else is fatal (the supervisor
      // restarts the process).
      if (isBrokerUnreachable(e.payload.error)) void this.recover();
      else o.onFatal(e.payload.error);
    });
    return consumer;
  }

  private async runConsumer(): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: this.o.topics, fromBeginning: this.o.fromBeginning ?? true });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.o.partitionsConsumedConcurrently ?? 1,
      eachBatch: (payload) => this.onBatch(payload),
    });
  }

  /** A new kafkajs consumer in place of one that gave up, retried with backoff until it runs. */
  private async recover(): Promise<void> {
    for (let attempt = 0; !this.stopping; attempt++) {
      await new Promise((r) => setTimeout(r, backoffMs(attempt, 1_000, 15_000)));
      if (this.stopping) return;
      await this.consumer.disconnect().catch(() => undefined);
      this.consumer = this.createConsumer();
      this.m.recoveries.inc();
      try {
        await this.runConsumer();
        this.log.warn({ attempt }, 'consumer recovered with a new client after kafkajs gave up');
        return;
      } catch (err) {
        this.log.warn({ attempt, err: errorMessage(err) }, 'consumer not recovered yet');
      }
    }
  }

  /** Readiness: connected and a member of the group (a member may have 0 partitions when over-scaled). */
  get isReady(): boolean {
    return this.joined && !this.stopping;
  }

  async start(): Promise<void> {
    if ((this.o.lagRefreshMs ?? 15_000) > 0) {
      this.lagTimer = setInterval(() => void this.refreshLag(), this.o.lagRefreshMs ?? 15_000);
      this.lagTimer.unref();
    }
    await this.runConsumer();
  }

  /**
   * Where the sink says a partition resumes (its own progress, the truth), read fresh before the
   * partition's first chunk after an assignment. Returns the offset to seek to when the fetch started
   * elsewhere, or undefined to go on with this batch. Waits (with backoff) while the sink's store is down.
   */
  private async sinkResumePoint(p: EachBatchPayload): Promise<string | undefined> {
    const { topic, partition } = p.batch;
    const key = `${topic}:${partition}`;
    if (!this.o.resumeFrom || !this.unchecked.has(key)) return undefined;
    for (let attempt = 0; ; attempt++) {
      try {
        const offset = await this.o.resumeFrom(topic, partition);
        this.unchecked.delete(key);
        const first = p.batch.messages[0]?.offset;
        return offset !== undefined && first !== undefined && BigInt(offset) !== BigInt(first) ? offset : undefined;
      } catch (err) {
        // The sink's store is down: wait for it (the batch must not start from Kafka's commit).
        this.logFor(topic, partition).warn({ err: errorMessage(err) }, 'cannot read sink progress yet');
        await sleepWithTicks(
          backoffMs(attempt, 200, 5_000),
          1_000,
          () => p.heartbeat(),
          () => this.stopping || !p.isRunning() || p.isStale(),
        );
        if (this.stopping || !p.isRunning() || p.isStale()) throw new Stopped();
      }
    }
  }

  /** Finishes the chunk in progress (and commits it), then leaves the group. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.lagTimer);
    await this.consumer.disconnect();
    await this.admin?.disconnect().catch(() => undefined);
  }

  /** Partitions that moved to another member stop being reported here (their new owner reports them). */
  private setAssignment(assignment: Record<string, number[]>): void {
    const keep = new Set(Object.entries(assignment).flatMap(([t, ps]) => ps.map((p) => `${t}:${p}`)));
    for (const [t, ps] of Object.entries(this.assignment))
      for (const p of ps) if (!keep.has(`${t}:${p}`)) this.m.lag.remove({ topic: t, partition: String(p) });
    this.assignment = assignment;
  }

  private async refreshLag(): Promise<void> {
    if (!this.joined || this.stopping || Object.keys(this.assignment).length === 0) return;
    try {
      if (!this.admin) {
        this.admin = this.o.kafka.admin();
        await this.admin.connect();
      }
      const [group] = await consumerLag(this.admin, [this.o.groupId]);
      for (const p of group?.partitions ?? []) {
        if (this.assignment[p.topic]?.includes(p.partition)) this.m.lag.set({ topic: p.topic, partition: String(p.partition) }, p.lag);
      }
    } catch (err) {
      this.log.debug({ err: errorMessage(err) }, 'lag refresh failed (next tick retries)');
    }
  }

  private async onBatch(p: EachBatchPayload): Promise<void> {
    const { batch } = p;
    const size = this.o.maxChunk ?? 500;
    try {
      const resume = await this.sinkResumePoint(p);
      if (resume !== undefined) {
        this.logFor(batch.topic, batch.partition).info(
          { from: batch.messages[0]?.offset, resume },
          "resuming from the sink's own progress",
        );
        this.consumer.seek({ topic: batch.topic, partition: batch.partition, offset: resume });
        return;
      }
      for (let i = 0; i < batch.messages.length; i += size) {
        if (!p.isRunning() || p.isStale() || this.stopping) return;
        await this.processChunk(p, batch.messages.slice(i, i + size));
      }
    } catch (err) {
      if (err instanceof Stopped) return; // shutting down or partition lost: the unfinished chunk is not committed
      if (err instanceof Rewind) {
        this.logFor(batch.topic, batch.partition).warn({ offset: err.offset }, 'sink asked to re-read from an earlier offset');
        this.consumer.seek({ topic: batch.topic, partition: batch.partition, offset: err.offset });
        if (err.everyPartition) await this.rewindOthers(batch.topic, batch.partition);
        return;
      }
      throw err;
    }
  }

  /** Seeks every other partition of this member to where the sink says it resumes (see `everyPartition`). */
  private async rewindOthers(topic: string, partition: number): Promise<void> {
    if (!this.o.resumeFrom) return;
    for (const [t, ps] of Object.entries(this.assignment)) {
      for (const p of ps) {
        if (t === topic && p === partition) continue;
        try {
          const offset = await this.o.resumeFrom(t, p);
          if (offset !== undefined) this.consumer.seek({ topic: t, partition: p, offset });
        } catch (err) {
          // The partition's next chunk still checks its progress itself (the sink's own rewind).
          this.logFor(t, p).warn({ err: errorMessage(err) }, 'could not read the sink progress to rewind');
        }
      }
    }
    this.log.warn(
      { partitions: Object.values(this.assignment).reduce((n, ps) => n + ps.length, 0) },
      "sink lost its state: every partition moved back to the sink's progress",
    );
  }

  private async processChunk(p: EachBatchPayload, messages: KafkaMessage[]): Promise<void> {
    const { batch } = p;
    const t0 = process.hrtime.bigint();
    const labels = { topic: batch.topic };
    this.countReprocessed(batch, messages);
    this.m.consumed.inc(labels, messages.length);

    const valid: DecodedMessage<T>[] = [];
    const dead: { msg: KafkaMessage; dl: DeadLetter }[] = [];
    for (const msg of messages) {
      const r = await this.retrying(p, 'decode', () => this.decodeOne(batch, msg));
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

  /**
   * Runs `fn` while heartbeating in the background. kafkajs heartbeats only when asked between
   * awaits, so one sink write slower than the session timeout (a locked table, a frozen MySQL) would
   * otherwise cost the membership: the group rebalances, the chunk is redelivered to another member,
   * which is just as slow — a rebalance storm. Heartbeat errors are left to the next awaited
   * heartbeat, which surfaces a rebalance the way kafkajs expects.
   */
  private async beating<R>(p: EachBatchPayload, fn: () => Promise<R>): Promise<R> {
    const timer = setInterval(() => {
      p.heartbeat().catch(() => undefined);
    }, this.o.heartbeatIntervalMs ?? 3_000);
    try {
      return await fn();
    } finally {
      clearInterval(timer);
    }
  }

  private async decodeOne(batch: Batch, msg: KafkaMessage): Promise<{ decoded: DecodedMessage<T> } | { dl: DeadLetter }> {
    try {
      const { schemaId, value } = await this.o.codec.decode(msg.value);
      const v = this.o.validate ? this.o.validate(batch.topic, value) : { ok: true as const, value: value as T };
      if (!v.ok) return { dl: { reason: 'invalid_payload', detail: `${v.reason}: ${v.detail}`, step: 'validate' } };
      const decoded = {
        topic: batch.topic,
        partition: batch.partition,
        offset: msg.offset,
        key: msg.key?.toString('utf8') ?? null,
        value: v.value,
        schemaId,
        timestamp: msg.timestamp,
      };
      return { decoded };
    } catch (err) {
      if (err instanceof PoisonMessageError) return { dl: { reason: err.reason, detail: err.message, step: 'decode' } };
      throw err; // registry unreachable: retriable
    }
  }

  /** One child logger per partition, so every line says where it happened. */
  private logFor(topic: string, partition: number): Logger {
    const k = `${topic}:${partition}`;
    let l = this.partitionLogs.get(k);
    if (!l) this.partitionLogs.set(k, (l = this.log.child({ topic, partition })));
    return l;
  }

  /**
   * Runs `fn` until it succeeds, backing off between tries; gives up when the partition is lost
   * or, unless `duringShutdown` allows that many tries, when a shutdown began.
   */
  private async retrying<R>(p: EachBatchPayload, step: string, fn: () => Promise<R>, opts: { duringShutdown?: number } = {}): Promise<R> {
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
        const shuttingDown = () => this.stopping || !p.isRunning();
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

  private countReprocessed(batch: Batch, messages: KafkaMessage[]): void {
    const done = this.committed.get(`${batch.topic}:${batch.partition}`);
    if (done === undefined) return;
    const again = messages.filter((m) => BigInt(m.offset) < done).length;
    if (again > 0) this.m.reprocessed.inc({ topic: batch.topic }, again);
  }

  private observe(batch: Batch, valid: DecodedMessage<T>[], processed: number, last: string, t0: bigint): void {
    const labels = { topic: batch.topic };
    this.m.processed.inc(labels, processed);
    this.m.batchSeconds.observe(labels, Number(process.hrtime.bigint() - t0) / 1e9);
    const lag = Number(BigInt(batch.highWatermark) - BigInt(last) - 1n);
    this.m.lag.set({ topic: batch.topic, partition: String(batch.partition) }, Math.max(0, lag));
    const now = Date.now();
    const receivedAtOf = this.o.receivedAtOf ?? ((v: T) => (v as { received_at?: unknown }).received_at as number | undefined);
    for (const d of valid) {
      const ms = receivedAtOf(d.value);
      if (typeof ms === 'number') this.m.freshness.observe(labels, Math.max(0, now - ms) / 1000);
    }
  }
}

/**
 * A crash kafkajs will not restart from, caused only by the broker being away (stopped, restarting,
 * not yet accepting connections): worth a new client rather than a process exit.
 */
export function isBrokerUnreachable(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && typeof e === 'object' && depth < 5; depth++) {
    const { name, message } = e as { name?: string; message?: string };
    if (
      /^KafkaJS(Connection|ConnectionClosed|NoBrokerAvailable|BrokerNotFound|RequestTimeout|GroupCoordinatorNotFound|NumberOfRetriesExceeded)(Error)?$/.test(
        name ?? '',
      )
    )
      return true;
    if (/ECONNREFUSED|ECONNRESET|EPIPE|Closed connection|No brokers? available|coordinator is not available/i.test(message ?? ''))
      return true;
    e = (e as { cause?: unknown; originalError?: unknown }).originalError ?? (e as { cause?: unknown }).cause;
  }
  return false;
}
