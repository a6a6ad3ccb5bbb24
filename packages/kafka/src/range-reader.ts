import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';

/** Offsets [start, end) of one partition; `end` is fixed when the read starts. */
export interface OffsetRange {
  topic: string;
  partition: number;
  start: bigint;
  end: bigint;
}

/** One batch's messages of an open range, in offset order, and the kafkajs controls that go with them. */
export interface RangeBatch {
  topic: string;
  partition: number;
  messages: KafkaMessage[];
  heartbeat(): Promise<void>;
  isRunning(): boolean;
  isStale(): boolean;
}

/** Where an unfinished range stands (for a stall report). */
export interface RangePosition {
  topic: string;
  partition: number;
  next: bigint;
  end: bigint;
}

export interface RangeReaderOptions {
  kafka: Kafka;
  /** A throwaway group: a range reader never commits, so no live group's offsets move. */
  groupId: string;
  ranges: OffsetRange[];
  /**
   * Applies a batch. A `rewind` result reads the partition again from that offset (a sink that lost
   * state). A throw ends the read with that error: the caller's position stays where it was.
   */
  onBatch: (batch: RangeBatch) => Promise<{ rewind: string } | void>;
  /**
   * What an onBatch error does: `end` (default) ends the read with it; `redeliver` leaves it to
   * kafkajs, which fetches the batch again and, once its retries are spent, crashes — ending the read.
   */
  onError?: 'end' | 'redeliver';
  maxWaitTimeInMs?: number;
  allowAutoTopicCreation?: boolean;
  /** Called every `stallReportMs` (default 15 s) during which no message was read. */
  onStall?: (open: RangePosition[]) => void;
  stallReportMs?: number;
}

/**
 * Reads given partitions from a start offset to an end offset with a kafkajs consumer group of its
 * own, then stops. Nothing is committed: where each range goes on from is kept here, and a join of
 * the group (a slow first join, a coordinator moving) seeks every open range back there — a
 * throwaway group has no committed offsets to resume from.
 */
export class RangeReader {
  private readonly open = new Map<string, RangePosition>();
  private consumer: Consumer | undefined;
  private read = 0;
  private stall: NodeJS.Timeout | undefined;

  constructor(private readonly o: RangeReaderOptions) {
    for (const r of o.ranges) if (r.start < r.end) this.open.set(key(r.topic, r.partition), { ...r, next: r.start });
  }

  /** Messages handed to onBatch so far. */
  get messagesRead(): number {
    return this.read;
  }

  /** Resolves once every range reached its end; rejects when onBatch throws or the consumer crashes. */
  async run(): Promise<void> {
    const { done } = await this.start();
    await done;
  }

  /**
   * Connects, subscribes and joins the group; resolves then with the promise of the read's end, for
   * a caller that bounds the read itself (its deadline then counts from the join on). The
   * promise is wrapped: an async function returning it bare would wait for it.
   */
  async start(): Promise<{ done: Promise<void> }> {
    if (this.open.size === 0) return { done: Promise.resolve() };
    const c = this.o.kafka.consumer({
      groupId: this.o.groupId,
      maxWaitTimeInMs: this.o.maxWaitTimeInMs ?? 250,
      ...(this.o.allowAutoTopicCreation === undefined ? {} : { allowAutoTopicCreation: this.o.allowAutoTopicCreation }),
    });
    this.consumer = c;
    await c.connect();
    for (const topic of new Set([...this.open.values()].map((r) => r.topic))) await c.subscribe({ topic, fromBeginning: true });
    let joined!: () => void;
    const running = new Promise<void>((res) => (joined = res));
    const done = new Promise<void>((resolve, reject) => {
      // kafkajs' run() resolves once the member first joined the group.
      c.run({ autoCommit: false, eachBatch: (p) => this.onBatch(c, p, resolve, reject) }).then(joined, reject);
      for (const r of this.open.values()) c.seek({ topic: r.topic, partition: r.partition, offset: r.next.toString() });
      c.on(c.events.GROUP_JOIN, () => {
        for (const r of this.open.values()) c.seek({ topic: r.topic, partition: r.partition, offset: r.next.toString() });
      });
      c.on(c.events.CRASH, (e) => reject(e.payload.error));
      // A read that stops moving says where it waits (the log is how a hung one is diagnosed).
      let seen = -1;
      this.stall = setInterval(() => {
        if (this.read === seen) this.o.onStall?.([...this.open.values()].map((r) => ({ ...r })));
        seen = this.read;
      }, this.o.stallReportMs ?? 15_000);
      this.stall.unref();
    }).finally(() => clearInterval(this.stall));
    // A run() that fails settles `done`, so this never waits for ever.
    await Promise.race([running, done.then(noop, noop)]);
    return { done };
  }

  /** Leaves the group; a read in progress stops after its current batch. */
  async close(): Promise<void> {
    clearInterval(this.stall);
    await this.consumer?.disconnect();
  }

  private async onBatch(c: Consumer, p: EachBatchPayload, resolve: () => void, reject: (e: unknown) => void): Promise<void> {
    const { batch } = p;
    const k = key(batch.topic, batch.partition);
    const range = this.open.get(k);
    if (!range) return;
    // Before the position: read already (a batch fetched before a seek); from the end on: not ours.
    const inRange = batch.messages.filter((m) => BigInt(m.offset) >= range.next && BigInt(m.offset) < range.end);
    if (inRange.length > 0) {
      let result: { rewind: string } | void;
      try {
        result = await this.o.onBatch({
          topic: batch.topic,
          partition: batch.partition,
          messages: inRange,
          heartbeat: () => p.heartbeat(),
          isRunning: () => p.isRunning(),
          isStale: () => p.isStale(),
        });
      } catch (err) {
        if (this.o.onError !== 'redeliver') reject(err);
        throw err;
      }
      if (result) {
        range.next = BigInt(result.rewind);
        c.seek({ topic: batch.topic, partition: batch.partition, offset: result.rewind });
        return;
      }
      this.read += inRange.length;
    }
    const last = batch.messages[batch.messages.length - 1];
    if (last && BigInt(last.offset) + 1n > range.next) range.next = BigInt(last.offset) + 1n;
    if (range.next >= range.end) {
      this.open.delete(k);
      c.pause([{ topic: batch.topic, partitions: [batch.partition] }]);
      if (this.open.size === 0) resolve();
    }
  }
}

const noop = () => undefined;
const key = (topic: string, partition: number) => `${topic}:${partition}`;
