import { CompressionTypes, Partitioners, type Kafka, type Message, type Producer } from 'kafkajs';
import { DependencyError, errorMessage } from '@tally/runtime';

export interface ProducerSettings {
  /** Whole-send deadline: past it the caller gets an error (the ingest API answers 503). */
  sendTimeoutMs?: number;
  /** Most records in one coalesced produce request (5,000 × ~130 B ≈ 650 kB, under the 1 MB batch limit). */
  maxBatchRecords?: number;
  /** Coalesced requests in flight at once: overlaps encoding the next with waiting for the last ack. */
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
}

/**
 * Idempotent producer with acks=all: the broker dedups the producer's own retries, and a send
 * resolves only once every in-sync replica has the records. Errors are surfaced, never swallowed:
 * the caller decides (503 to the client, or a retried batch in a consumer).
 *
 * Concurrent sends are coalesced: while the allowed produce requests are in flight, new records wait
 * and go out together in the next one (Nagle-style, no fixed linger, so an idle producer sends at once).
 * kafkajs serializes an idempotent producer's requests (~1 ms each here), so one request per HTTP
 * call capped the ingest API near 1,000 requests/s; coalescing makes the cost per batch, not per call.
 */
export class TallyProducer {
  private readonly producer: Producer;
  private connected = false;
  private queue: Pending[] = [];
  private inFlight = 0;

  constructor(kafka: Kafka, private readonly s: ProducerSettings = {}) {
    this.producer = kafka.producer({
      idempotent: true,
      // Idempotence keeps order with up to 5 in flight (KIP-98); kafkajs' own retries stay unlimited
      // for the idempotent producer (limiting them voids its exactly-once guarantee).
      maxInFlightRequests: 5,
      allowAutoTopicCreation: false,
      // The Java client's murmur2 partitioner: the data team's Java/Python consumers agree on placement.
      createPartitioner: Partitioners.DefaultPartitioner,
    });
  }

  async connect(): Promise<void> {
    try {
      await this.producer.connect();
      this.connected = true;
    } catch (err) {
      throw new DependencyError('kafka', `producer cannot connect: ${errorMessage(err)}`, err);
    }
  }

  get isConnected(): boolean {
    return this.connected;
  }

  /** Resolves when Kafka acknowledged all of `records` (of any topics); rejects with a retriable error otherwise. */
  async send(records: OutgoingRecord[]): Promise<void> {
    if (records.length === 0) return;
    const timeout = this.s.sendTimeoutMs ?? 5_000;
    let timer: NodeJS.Timeout | undefined;
    const acked = new Promise<void>((resolve, reject) => {
      this.queue.push({ records, resolve, reject });
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
      throw err instanceof DependencyError ? err : new DependencyError('kafka', `produce failed: ${errorMessage(err)}`, err);
    } finally {
      clearTimeout(timer);
    }
  }

  private pump(): void {
    if (this.inFlight >= (this.s.maxConcurrentRequests ?? 3) || this.queue.length === 0) return;
    const max = this.s.maxBatchRecords ?? 5_000;
    const batch: Pending[] = [];
    let n = 0;
    while (this.queue.length > 0 && (batch.length === 0 || n + this.queue[0]!.records.length <= max)) {
      const p = this.queue.shift()!;
      batch.push(p);
      n += p.records.length;
    }
    this.inFlight++;
    this.producer
      .sendBatch({ acks: -1, timeout: this.s.sendTimeoutMs ?? 5_000, compression: CompressionTypes.None, topicMessages: byTopic(batch.flatMap((p) => p.records)) })
      .then(
        () => batch.forEach((p) => p.resolve()),
        (err: unknown) => batch.forEach((p) => p.reject(new DependencyError('kafka', `produce failed: ${errorMessage(err)}`, err))),
      )
      .finally(() => {
        this.inFlight--;
        this.pump();
      });
  }

  async disconnect(): Promise<void> {
    this.connected = false;
    await this.producer.disconnect();
  }
}

function byTopic(records: OutgoingRecord[]): { topic: string; messages: Message[] }[] {
  const m = new Map<string, Message[]>();
  for (const r of records) {
    const list = m.get(r.topic) ?? [];
    list.push({ key: r.key, value: r.value, ...(r.headers ? { headers: r.headers } : {}) });
    m.set(r.topic, list);
  }
  return [...m].map(([topic, messages]) => ({ topic, messages }));
}
