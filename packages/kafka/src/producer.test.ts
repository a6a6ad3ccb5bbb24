import type { Kafka, ProducerConfig, ProducerBatch } from 'kafkajs';
import { TallyProducer } from './producer';

/** A kafkajs producer stand-in: records what it was asked to send; a test decides how each request ends. */
class FakeProducer {
  connected = false;
  readonly batches: ProducerBatch[] = [];
  inFlight = 0;
  maxInFlight = 0;
  /** How the next requests end (default: acknowledged at once). */
  next: (() => Promise<void>)[] = [];
  constructor(readonly config: ProducerConfig) {}
  async connect(): Promise<void> {
    this.connected = true;
  }
  async disconnect(): Promise<void> {
    this.connected = false;
  }
  async sendBatch(batch: ProducerBatch): Promise<unknown[]> {
    if (!this.connected) throw new Error('The producer is disconnected');
    this.batches.push(batch);
    this.maxInFlight = Math.max(this.maxInFlight, ++this.inFlight);
    try {
      await (this.next.shift() ?? (async () => undefined))();
    } finally {
      this.inFlight--;
    }
    return [];
  }
}

function fakeKafka(): { kafka: Kafka; made: FakeProducer[] } {
  const made: FakeProducer[] = [];
  const kafka = { producer: (config: ProducerConfig) => made[made.push(new FakeProducer(config)) - 1]! } as unknown as Kafka;
  return { kafka, made };
}

const record = (v: string) => ({ topic: 't', key: v, value: Buffer.from(v) });
const values = (p: FakeProducer) => p.batches.flatMap((b) => b.topicMessages!.flatMap((t) => t.messages.map((m) => String(m.value))));

describe('TallyProducer', () => {
  it('lets kafkajs retry a request for ever (limited retries reuse sequence numbers: acknowledged, never stored)', () => {
    const { kafka, made } = fakeKafka();
    void new TallyProducer(kafka);
    expect(made[0]!.config).toMatchObject({ idempotent: true, retry: { retries: Number.MAX_SAFE_INTEGER } });
  });

  it('sends at most one request at a time with each kafkajs producer (no other records between a failed attempt and its retry)', async () => {
    const { kafka, made } = fakeKafka();
    const producer = new TallyProducer(kafka, { maxConcurrentRequests: 2 });
    await producer.connect();
    const releases: (() => void)[] = [];
    for (const p of made) p.next.push(() => new Promise<void>((r) => releases.push(r)));
    const sends = ['a', 'b', 'c', 'd'].map((v) => producer.send([record(v)]));
    await new Promise((r) => setImmediate(r));
    // Two requests in flight, one per producer; the rest waits and goes out together.
    expect(made.map((p) => p.inFlight)).toEqual([1, 1]);
    releases.forEach((r) => r());
    await Promise.all(sends);
    expect(made).toHaveLength(2);
    expect(made.map((p) => p.maxInFlight)).toEqual([1, 1]);
    expect(made.flatMap(values).sort()).toEqual(['a', 'b', 'c', 'd']);
  });

  it('after a failed request, that slot sends with a new producer (new producer id) and the old one is disconnected', async () => {
    const { kafka, made } = fakeKafka();
    const producer = new TallyProducer(kafka, { maxConcurrentRequests: 1 });
    await producer.connect();
    made[0]!.next.push(async () => {
      throw new Error('OUT_OF_ORDER_SEQUENCE_NUMBER');
    });
    await expect(producer.send([record('a')])).rejects.toMatchObject({ code: 'KAFKA_UNAVAILABLE', retriable: true });
    await producer.send([record('b')]);
    expect(made).toHaveLength(2);
    expect(values(made[0]!)).toEqual(['a']);
    expect(values(made[1]!)).toEqual(['b']);
    expect(made[0]!.connected).toBe(false);
    expect(made[1]!.connected).toBe(true);
  });

  it('never sends records whose caller already got its timeout while they waited for a free request', async () => {
    const { kafka, made } = fakeKafka();
    const producer = new TallyProducer(kafka, { sendTimeoutMs: 50, maxConcurrentRequests: 1 });
    await producer.connect();
    let release!: () => void;
    made[0]!.next.push(() => new Promise<void>((r) => (release = r)));
    const first = producer.send([record('first')]).catch((e: unknown) => e);
    await expect(producer.send([record('queued')])).rejects.toMatchObject({ code: 'KAFKA_UNAVAILABLE' });
    release();
    await first;
    await producer.send([record('later')]);
    expect(values(made[0]!)).toEqual(['first', 'later']);
  });
});
