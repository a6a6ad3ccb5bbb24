import { CompressionTypes, type Kafka, type Message, type Producer, type RecordMetadata } from 'kafkajs';
import { DependencyError, errorMessage } from '@tally/runtime';
import { placeOnce } from './partitioner';

export interface ProducerSettings {
  /** Whole-send deadline: past it the caller gets an error (the ingest API answers 503). */
  sendTimeoutMs?: number;
  /** Most records in one coalesced produce request (5,000 × ~130 B ≈ 650 kB, under the 1 MB batch limit). */
  maxBatchRecords?: number;
  /**
   * Coalesced requests in flight at most (default 3). A second one starts only when a full request
   * (`maxBatchRecords`) is waiting: below that, records wait for the request in flight and go together.
   */
  maxConcurrentRequests?: number;
}

export interface OutgoingRecord {
  topic: string;
  key: string | null;
  value: Buffer;
  headers?: Record<string, string>;
}

interface Pending {
  records: OutgoingRecord[];
  resolve: () => void;
  reject: (err: unknown) => void;
  /** The caller already got its timeout: never send these records (the client was told 503). */
  abandoned?: boolean;
}

/**
 * Idempotent producer with acks=all: the broker dedups the producer's own retries, and a send
 * resolves only once every in-sync replica has the records. Errors are surfaced, never swallowed:
 * the caller decides (503 to the client, or a retried batch in a consumer).
 *
 * Concurrent sends are coalesced: while a produce request is in flight, new records wait and go out
 * together in the next one (Nagle-style, no fixed linger, so an idle producer sends at once); more
 * requests run at once only when a full request's worth is waiting.
 * kafkajs serializes an idempotent producer's requests (~1 ms each here), so one request per HTTP
 * call capped the ingest API near 1,000 requests/s; coalescing makes the cost per batch, not per call.
 *
 * Exactly-once across broker restarts (a restart under load lost 4 acknowledged events before this,
 * tests/faults/kafka-restart.test.ts): kafkajs numbers each partition's batches and, when a request
 * fails, rolls the number back — even if the broker did write the batch and only the answer was lost
 * (a broker stopping mid-request). Any *other* records sent next by the same kafkajs producer reuse
 * the number: the broker takes them for a retry of the written batch, answers success and drops them
 * (acknowledged, never stored), or refuses them as out of order (and every later batch with them).
 * Three rules keep the numbers true:
 *  - one request at a time per kafkajs producer: each of the `maxConcurrentRequests` requests in
 *    flight has a producer (a producer id) of its own, so nothing can slip in between a failed attempt
 *    and its retry;
 *  - kafkajs retries a request for ever (with its own backoff): the same records, the same numbers;
 *  - kafkajs still gives up when it cannot reconnect to a broker that is gone (its connection retries
 *    are limited) or on a non-retriable error; the producer that failed is then replaced by a new one
 *    (a new producer id, numbering from 0) before it sends again, as the Java client bumps its epoch.
 *    The failed records may have been written: the caller got an error (the ingest API's 503) and
 *    resubmits them with the same event ids, which the sinks deduplicate.
 * The caller never waits on kafkajs' retries: it gets its error at `sendTimeoutMs`.
 */
export class TallyProducer {
  /** One kafkajs producer per request in flight; `failed`: replace it before its next request. */
  private readonly slots: { producer: Producer; busy: boolean; failed: boolean }[];
  private connected = false;
  private queue: Pending[] = [];

  constructor(
    private readonly kafka: Kafka,
    private readonly s: ProducerSettings = {},
  ) {
    this.slots = Array.from({ length: s.maxConcurrentRequests ?? 3 }, () => ({ producer: this.create(), busy: false, failed: false }));
  }

  private create(): Producer {
    return this.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 5,
      // Unlimited, as kafkajs intends for an idempotent producer (see the class comment). It must be
      // said here: kafkajs merges the client's retry settings (5 retries) into the producer's.
      retry: { retries: Number.MAX_SAFE_INTEGER },
      allowAutoTopicCreation: false,
      // The Java client's murmur2 placement (the data team's Java/Python consumers agree on it),
      // deciding each record once, on its first attempt (partitioner.ts).
      createPartitioner: placeOnce,
    });
  }

  async connect(): Promise<void> {
    try {
      await Promise.all(this.slots.map((slot) => slot.producer.connect()));
      this.connected = true;
    } catch (err) {
      throw new DependencyError('kafka', `producer cannot connect: ${errorMessage(err)}`, err);
    }
  }

  get isConnected(): boolean {
    return this.connected;
  }

  /**
   * Resolves when Kafka acknowledged all of `records` (of any topics); rejects with a retriable error
   * otherwise. By default the caller gets its error at `sendTimeoutMs` while the request may still be
   * retried and land (right for an HTTP client that retries with the same event ids). `untilSettled`
   * waits for the request's real outcome instead: a caller that retries with *new* records (the
   * consumer runner's dead letters) would otherwise put a copy on the topic per timeout.
   */
  async send(records: OutgoingRecord[], opts: { untilSettled?: boolean } = {}): Promise<void> {
    if (records.length === 0) return;
    if (opts.untilSettled) {
      await new Promise<void>((resolve, reject) => {
        this.queue.push({ records, resolve, reject });
        this.pump();
      });
      return;
    }
    const timeout = this.s.sendTimeoutMs ?? 5_000;
    let timer: NodeJS.Timeout | undefined;
    let pending: Pending | undefined;
    const acked = new Promise<void>((resolve, reject) => {
      pending = { records, resolve, reject };
      this.queue.push(pending);
      this.pump();
    });
    try {
      await Promise.race([
        acked,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no acknowledgement within ${timeout} ms`)), timeout);
        }),
      ]);
    } catch (err) {
      // If still queued, nothing was sent, and nothing is sent later either (fewer copies to dedup).
      pending!.abandoned = true;
      throw err instanceof DependencyError ? err : new DependencyError('kafka', `produce failed: ${errorMessage(err)}`, err);
    } finally {
      clearTimeout(timer);
    }
  }

  private pump(): void {
    if (this.queue.length === 0) return;
    const slot = this.slots.find((x) => !x.busy);
    if (!slot) return;
    const max = this.s.maxBatchRecords ?? 5_000;
    // While a request is in flight, what arrives waits and leaves with the next one, which starts at
    // its ack; another request starts only when a full one is waiting. Each request costs about
    // 0.5 ms of CPU here whatever it carries (mostly its socket write): at 1-event HTTP requests,
    // three slots dispatching at once sent 15 records a request and managed 9,500 a second, one
    // request at a time 32 a request and 24,000 a second (#19).
    if (this.slots.some((x) => x.busy) && this.queuedRecords(max) < max) return;
    this.queue = this.queue.filter((p) => !p.abandoned);
    const batch: Pending[] = [];
    let n = 0;
    while (this.queue.length > 0 && (batch.length === 0 || n + this.queue[0]!.records.length <= max)) {
      const p = this.queue.shift()!;
      batch.push(p);
      n += p.records.length;
    }
    slot.busy = true;
    void this.sendOn(slot, batch).finally(() => {
      slot.busy = false;
      this.pump();
    });
  }

  /** Records waiting to be sent, counted up to `atLeast` (enough to decide). */
  private queuedRecords(atLeast: number): number {
    let n = 0;
    for (const p of this.queue) {
      if (!p.abandoned) n += p.records.length;
      if (n >= atLeast) break;
    }
    return n;
  }

  private async sendOn(slot: TallyProducer['slots'][number], batch: Pending[]): Promise<void> {
    try {
      if (slot.failed) {
        // Nothing else uses this producer (one request per producer): it can go at once.
        void slot.producer.disconnect().catch(() => undefined);
        slot.producer = this.create();
        await slot.producer.connect();
        slot.failed = false;
      }
      const live = batch.filter((p) => !p.abandoned);
      if (live.length === 0) return;
      const topicMessages = byTopic(live.flatMap((p) => p.records));
      const acked = await slot.producer.sendBatch({
        acks: -1,
        timeout: this.s.sendTimeoutMs ?? 5_000,
        compression: CompressionTypes.None,
        topicMessages,
      });
      const unacked = this.unacknowledged(topicMessages, acked);
      if (unacked.length > 0)
        throw new Error(
          `kafka acknowledged the request without partitions ${unacked.join(', ')} (their leader moved during a retry); nothing of them was written by this request`,
        );
      live.forEach((p) => p.resolve());
    } catch (err) {
      // A request that failed (or a replacement that could not connect): a new producer next time.
      if (this.connected) slot.failed = true;
      batch.forEach((p) => p.reject(new DependencyError('kafka', `produce failed: ${errorMessage(err)}`, err)));
    }
  }

  /**
   * The partitions of a request that no broker acknowledged. kafkajs 2.2.4 retries a failed request
   * only towards brokers that have not answered yet (producer/sendMessages.js): a partition whose
   * leader moved, during the retries, to a broker that had already answered for its own partitions is
   * never sent, and the send still resolves. On the 3-node cluster (tests/faults/kafka-cluster.test.ts)
   * that lost 3 to 8 acknowledged events in a leader election. Such a request is a failed one: the
   * caller gets its error (503, resubmitted with the same event ids), and the producer is replaced.
   */
  private unacknowledged(sent: { topic: string; messages: Message[] }[], acked: RecordMetadata[]): string[] {
    const answered = new Set(acked.filter((m) => m.errorCode === 0).map((m) => `${m.topicName}:${m.partition}`));
    const missing: string[] = [];
    for (const { topic, messages } of sent) {
      // The partitions first, then one lookup each: a request holds up to 5,000 records, few partitions.
      const partitions = new Set(messages.map((m) => m.partition ?? -1));
      for (const p of partitions) if (!answered.has(`${topic}:${p}`)) missing.push(`${topic}:${p === -1 ? '?' : p}`);
    }
    return missing;
  }

  async disconnect(): Promise<void> {
    this.connected = false;
    await Promise.all(this.slots.map((slot) => slot.producer.disconnect()));
  }
}

function byTopic(records: OutgoingRecord[]): { topic: string; messages: Message[] }[] {
  const m = new Map<string, Message[]>();
  for (const r of records) {
    const list = m.get(r.topic) ?? [];
    // One shape for every message (partition set by placeOnce on the first attempt).
    list.push({ key: r.key, value: r.value, headers: r.headers, partition: undefined });
    m.set(r.topic, list);
  }
  return [...m].map(([topic, messages]) => ({ topic, messages }));
}
