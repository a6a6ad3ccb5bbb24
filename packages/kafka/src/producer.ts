import { CompressionTypes, type Kafka, type Message, type Producer, type RecordMetadata } from 'kafkajs';
import { DependencyError, errorMessage } from '@tally/runtime';

export interface ProducerSettings {
  /** Whole-send deadline: past it the caller gets an error (the ingest API answers 503). */
  sendTimeoutMs?: number;
}

export interface OutgoingRecord {
  topic: string;
  key: string | null;
  value: Buffer;
  headers?: Record<string, string>;
}

/**
 * Idempotent producer with acks=all: the broker dedups the producer's own retries, and a send
 * resolves only once every in-sync replica has the records. Errors are surfaced, never swallowed:
 * the caller decides (503 to the client, or a retried batch in a consumer).
 */
export class TallyProducer {
  private readonly producer: Producer;
  private connected = false;

  constructor(kafka: Kafka, private readonly s: ProducerSettings = {}) {
    this.producer = kafka.producer({
      idempotent: true,
      // Idempotence keeps order with up to 5 in flight (KIP-98).
      maxInFlightRequests: 5,
      allowAutoTopicCreation: false,
      retry: { retries: 3, initialRetryTime: 100, maxRetryTime: 1_000 },
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

  /** Sends records of any topics; resolves when Kafka acknowledged all of them. */
  async send(records: OutgoingRecord[]): Promise<RecordMetadata[]> {
    if (records.length === 0) return [];
    const byTopic = new Map<string, Message[]>();
    for (const r of records) {
      const list = byTopic.get(r.topic) ?? [];
      list.push({ key: r.key, value: r.value, ...(r.headers ? { headers: r.headers } : {}) });
      byTopic.set(r.topic, list);
    }
    const timeout = this.s.sendTimeoutMs ?? 5_000;
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        this.producer.sendBatch({
          acks: -1,
          timeout,
          compression: CompressionTypes.None,
          topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
        }),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no acknowledgement within ${timeout} ms`)), timeout);
        }),
      ]);
    } catch (err) {
      throw new DependencyError('kafka', `produce failed: ${errorMessage(err)}`, err);
    } finally {
      clearTimeout(timer);
    }
  }

  async disconnect(): Promise<void> {
    this.connected = false;
    await this.producer.disconnect();
  }
}
