import type { Kafka, PartitionMetadata, ProducerConfig, ProducerBatch, RecordMetadata } from 'kafkajs';
import { TallyProducer } from './producer';

const PARTITIONS: PartitionMetadata[] = [0, 1, 2].map((partitionId) => ({
  partitionId,
  leader: partitionId,
  partitionErrorCode: 0,
  replicas: [],
  isr: [],
}));

/**
 * A kafkajs producer stand-in: records what it was asked to send, places each record with the
 * configured partitioner as kafkajs does on every attempt, and answers for every partition it placed
 * a record on, except those in `unanswered` (kafkajs' retry gap); a test decides how each request ends.
 */
class FakeProducer {
  /** Partitions this producer's next answer leaves out, as `topic:partition`. */
  unanswered = new Set<string>();
  /** Every placement the partitioner gave, per attempt, as `value@partition`. */
  readonly placements: string[][] = [];
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
  async sendBatch(batch: ProducerBatch): Promise<RecordMetadata[]> {
    if (!this.connected) throw new Error('The producer is disconnected');
    this.batches.push(batch);
    this.maxInFlight = Math.max(this.maxInFlight, ++this.inFlight);
    const partitioner = this.config.createPartitioner!();
    const place = () =>
      batch.topicMessages!.flatMap(({ topic, messages }) =>
        messages.map((message) => ({ topic, message, partition: partitioner({ topic, partitionMetadata: PARTITIONS, message }) })),
      );
    // Two attempts, as kafkajs' retrier asks the partitioner again on each.
    this.placements.push(place().map((p) => `${String(p.message.value)}@${p.partition}`));
    const placed = place();
    this.placements.push(placed.map((p) => `${String(p.message.value)}@${p.partition}`));
    try {
      await (this.next.shift() ?? (async () => undefined))();
    } finally {
      this.inFlight--;
    }
    const answered = new Set(placed.map((p) => `${p.topic}:${p.partition}`).filter((tp) => !this.unanswered.has(tp)));
    this.unanswered.clear();
    return [...answered].map((tp) => ({
      topicName: tp.split(':')[0]!,
      partition: Number(tp.split(':')[1]),
      errorCode: 0,
      baseOffset: '0',
    }));
  }
}

function fakeKafka(): { kafka: Kafka; made: FakeProducer[] } {
  const made: FakeProducer[] = [];
  const kafka = { producer: (config: ProducerConfig) => made[made.push(new FakeProducer(config)) - 1]! } as unknown as Kafka;
  return { kafka, made };
}

const record = (v: string) => ({ topic: 't', key: v, value: Buffer.from(v) });
const unkeyed = (v: string) => ({ topic: 't', key: null, value: Buffer.from(v) });
const values = (p: FakeProducer) => p.batches.flatMap((b) => b.topicMessages!.flatMap((t) => t.messages.map((m) => String(m.value))));

describe('TallyProducer', () => {
  it('lets kafkajs retry a request for ever (limited retries reuse sequence numbers: acknowledged, never stored)', () => {
    const { kafka, made } = fakeKafka();
    void new TallyProducer(kafka);
    expect(made[0]!.config).toMatchObject({ idempotent: true, retry: { retries: Number.MAX_SAFE_INTEGER } });
  });

  it('sends at most one request at a time with each kafkajs producer (no other records between a failed attempt and its retry)', async () => {
    const { kafka, made } = fakeKafka();
    // One record makes a full request, so a second request starts while the first is in flight.
    const producer = new TallyProducer(kafka, { maxConcurrentRequests: 2, maxBatchRecords: 1 });
    await producer.connect();
    const releases: (() => void)[] = [];
    for (const p of made) p.next.push(() => new Promise<void>((r) => releases.push(r)));
    const sends = ['a', 'b', 'c', 'd'].map((v) => producer.send([record(v)]));
    await new Promise((r) => setImmediate(r));
    // Two requests in flight, one per producer; the rest waits for a free one.
    expect(made.map((p) => p.inFlight)).toEqual([1, 1]);
    releases.forEach((r) => r());
    await Promise.all(sends);
    expect(made).toHaveLength(2);
    expect(made.map((p) => p.maxInFlight)).toEqual([1, 1]);
    expect(made.flatMap(values).sort()).toEqual(['a', 'b', 'c', 'd']);
  });

  it('starts a second request only for a full one: below that, records wait for the request in flight and go together', async () => {
    const { kafka, made } = fakeKafka();
    const producer = new TallyProducer(kafka, { maxConcurrentRequests: 2, maxBatchRecords: 3 });
    await producer.connect();
    const releases: (() => void)[] = [];
    for (const p of made) for (let i = 0; i < 3; i++) p.next.push(() => new Promise<void>((r) => releases.push(r)));
    const first = producer.send([record('a')]);
    const waiting = ['b', 'c'].map((v) => producer.send([record(v)]));
    await new Promise((r) => setImmediate(r));
    // 'b' and 'c' (2 of 3) wait: the second producer stays idle.
    expect(made.map((p) => p.inFlight)).toEqual([1, 0]);
    const full = producer.send([record('d')]);
    await new Promise((r) => setImmediate(r));
    // Now a full request (3 records) waits: it goes on the second producer at once.
    expect(made.map((p) => p.inFlight)).toEqual([1, 1]);
    expect(values(made[1]!)).toEqual(['b', 'c', 'd']);
    while (releases.length > 0) releases.shift()!();
    await Promise.all([first, ...waiting, full]);
    expect(values(made[0]!)).toEqual(['a']);
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

  it('keeps each record on the partition it was first given, on every attempt (unkeyed ones too)', async () => {
    const { kafka, made } = fakeKafka();
    const producer = new TallyProducer(kafka, { maxConcurrentRequests: 1 });
    await producer.connect();
    await producer.send(['a', 'b', 'c', 'd', 'e'].map(unkeyed));
    const [first, retry] = made[0]!.placements;
    expect(retry).toEqual(first);
    // Round-robin still spreads unkeyed records over the partitions.
    expect(new Set(first!.map((p) => p.split('@')[1])).size).toBe(3);
  });

  it('fails a request kafkajs resolved without acknowledging one of its partitions, and sends the next on a new producer', async () => {
    const { kafka, made } = fakeKafka();
    const producer = new TallyProducer(kafka, { maxConcurrentRequests: 1 });
    await producer.connect();
    const records = ['a', 'b', 'c', 'd', 'e', 'f'].map(record);
    made[0]!.unanswered.add('t:1');
    await expect(producer.send(records)).rejects.toMatchObject({
      code: 'KAFKA_UNAVAILABLE',
      retriable: true,
      message: expect.stringContaining('t:1'),
    });
    // The caller resubmits (the ingest API's client, same event ids): all of it acknowledged this time.
    await producer.send(records);
    expect(made).toHaveLength(2);
    expect(made[0]!.connected).toBe(false);
    expect(values(made[1]!)).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
  });
});
