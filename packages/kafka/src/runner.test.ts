import { createLogger, ServiceMetrics, TallyError } from '@tally/runtime';
import { KafkaJSConnectionError, KafkaJSProtocolError } from 'kafkajs';
import { ConsumerRunner, type BatchOutcome, type ConsumerRunnerOptions, type PartitionBatch } from './runner';
import { FakeCodec, FakeKafka, FakeProducer, fakeMessage } from './testing/fake-kafka';
import { DLQ_HEADERS } from './dead-letter';

// The runner's offset, retry, rewind and shutdown rules, driven batch by batch through a fake
// kafkajs consumer (no broker): each test reads the ordered log of what moved an offset.

type Event = { n: number; bad?: boolean };

function setup(o: Partial<ConsumerRunnerOptions<Event>> & { handle?: (b: PartitionBatch<Event>) => Promise<BatchOutcome> } = {}) {
  const kafka = new FakeKafka();
  const codec = new FakeCodec();
  const producer = new FakeProducer(kafka.log);
  const fatal: unknown[] = [];
  const batches: PartitionBatch<Event>[] = [];
  const handle =
    o.handle ??
    ((b: PartitionBatch<Event>) => {
      batches.push(b);
      kafka.log.push(`handle ${b.messages.map((m) => m.offset).join(',')}`);
      return Promise.resolve<BatchOutcome>({ kind: 'done' });
    });
  const runner = new ConsumerRunner<Event>({
    kafka: kafka.asKafka(),
    service: 'unit',
    groupId: 'g',
    topics: ['t'],
    codec: codec.asCodec(),
    producer: producer.asProducer(),
    deadLetterTopic: 'dlq',
    logger: createLogger({ service: 'unit', level: 'silent' }),
    metrics: new ServiceMetrics('unit', { defaultMetrics: false }),
    retryInitialMs: 2,
    retryMaxMs: 4,
    lagRefreshMs: 0,
    onFatal: (err) => fatal.push(err),
    ...o,
    handle,
  });
  return { kafka, codec, producer, fatal, batches, runner };
}

const msgs = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => fakeMessage(from + i, { n: from + i }));

describe('ConsumerRunner (fake kafkajs consumer)', () => {
  it("observes every event's freshness from payload.received_at of the decoded { type, payload }", async () => {
    const metrics = new ServiceMetrics('unit', { defaultMetrics: false });
    const { kafka, runner } = setup({ metrics });
    await runner.start();
    kafka.last.join({ t: [0] });
    const now = Date.now();
    await kafka.last.deliver(
      't',
      0,
      [0, 1, 2].map((i) => fakeMessage(i, { type: 'movie.viewed', payload: { n: i, received_at: now - 1_000 } })),
    );
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/tally_event_freshness_seconds_count\{[^}]*topic="t"[^}]*\} 3/);
  });

  it('commits last + 1 of each chunk only after the handler returned', async () => {
    const { kafka, runner } = setup({ maxChunk: 2 });
    await runner.start();
    kafka.last.join({ t: [0] });
    await kafka.last.deliver('t', 0, msgs(10, 14));
    expect(kafka.log).toEqual([
      'handle 10,11',
      'resolve t:0@11',
      'commit t:0@12',
      'handle 12,13',
      'resolve t:0@13',
      'commit t:0@14',
      'handle 14',
      'resolve t:0@14',
      'commit t:0@15',
    ]);
    expect(kafka.last.subscribed).toEqual({ topics: ['t'], fromBeginning: true });
    expect(runner.isReady).toBe(true);
  });

  it('retries a retry outcome with the same messages, never dead-letters them, then commits', async () => {
    let calls = 0;
    const seen: string[][] = [];
    const { kafka, producer, runner } = setup({
      handle: (b) => {
        seen.push(b.messages.map((m) => m.offset));
        return Promise.resolve<BatchOutcome>(++calls < 3 ? { kind: 'retry', error: new Error('mysql down') } : { kind: 'done' });
      },
    });
    await runner.start();
    await kafka.last.deliver('t', 0, msgs(0, 2));
    expect(seen).toEqual([
      ['0', '1', '2'],
      ['0', '1', '2'],
      ['0', '1', '2'],
    ]);
    expect(producer.sent).toEqual([]);
    expect(kafka.last.commits).toEqual([{ topic: 't', partition: 0, offset: '3' }]);
    // The member heartbeats after each committed chunk, so a long batch keeps its partitions.
    expect(kafka.last.heartbeats).toBeGreaterThanOrEqual(1);
  });

  it('dead-letters poison and invalid values before the commit, and the offset still moves past them', async () => {
    const { kafka, producer, batches, runner } = setup({
      validate: (_t, v) => ((v as Event).bad ? { ok: false, reason: 'bad', detail: 'refused' } : { ok: true, value: v as Event }),
    });
    await runner.start();
    await kafka.last.deliver('t', 0, [fakeMessage(0, { n: 0 }), fakeMessage(1, 'poison'), fakeMessage(2, { n: 2, bad: true })]);
    expect(batches.map((b) => [b.messages.map((m) => m.offset), b.firstOffset, b.lastOffset])).toEqual([[['0'], '0', '2']]);
    expect(kafka.log).toEqual(['handle 0', 'dead-letter 2 settled', 'resolve t:0@2', 'commit t:0@3']);
    const headers = producer.sent[0]!.map((r) => [
      r.topic,
      r.headers?.[DLQ_HEADERS.step],
      r.headers?.[DLQ_HEADERS.offset],
      r.headers?.[DLQ_HEADERS.reason],
    ]);
    expect(headers).toEqual([
      ['dlq', 'decode', '1', 'undecodable'],
      ['dlq', 'validate', '2', 'invalid_payload'],
    ]);
  });

  it('dead-letters what the handler refuses, and skips the handler for an all-dead chunk unless asked', async () => {
    const { kafka, producer, runner } = setup({
      handle: (b) =>
        Promise.resolve<BatchOutcome>({ kind: 'done', deadLetters: [{ offset: b.messages[0]!.offset, reason: 'too_old', detail: 'x' }] }),
    });
    await runner.start();
    await kafka.last.deliver('t', 0, [fakeMessage(5, { n: 5 }), fakeMessage(6, 'poison')]);
    expect(producer.sent[0]!.map((r) => r.headers?.[DLQ_HEADERS.step])).toEqual(['decode', 'handle']);
    expect(kafka.last.commits.map((c) => c.offset)).toEqual(['7']);

    const empty = setup({ handleEmptyChunks: true });
    await empty.runner.start();
    await empty.kafka.last.deliver('t', 0, [fakeMessage(0, 'poison')]);
    expect(empty.batches.map((b) => [b.messages.length, b.firstOffset, b.lastOffset])).toEqual([[0, '0', '0']]);
    const none = setup();
    await none.runner.start();
    await none.kafka.last.deliver('t', 0, [fakeMessage(0, 'poison')]);
    expect(none.batches).toEqual([]);
    expect(none.kafka.last.commits.map((c) => c.offset)).toEqual(['1']);
  });

  it('does not commit while the dead-letter producer fails, and commits once it took them', async () => {
    const { kafka, producer, runner } = setup();
    producer.failNext = 2;
    await runner.start();
    await kafka.last.deliver('t', 0, [fakeMessage(0, 'poison'), fakeMessage(1, { n: 1 })]);
    expect(kafka.log).toEqual([
      'handle 1',
      'dead-letter send failed',
      'dead-letter send failed',
      'dead-letter 1 settled',
      'resolve t:0@1',
      'commit t:0@2',
    ]);
  });

  it('retries a codec that cannot reach the registry instead of dead-lettering', async () => {
    const { kafka, codec, producer, runner } = setup();
    codec.failNext = 2;
    await runner.start();
    await kafka.last.deliver('t', 0, msgs(0, 0));
    expect(producer.sent).toEqual([]);
    expect(kafka.log).toEqual(['handle 0', 'resolve t:0@0', 'commit t:0@1']);
  });

  it('seeks back on a rewind without committing; everyPartition moves the other partitions to resumeFrom', async () => {
    let rewound = false;
    const resumeFrom = jest.fn((_t: string, p: number) => Promise.resolve(p === 1 ? '40' : p === 2 ? undefined : '3'));
    const { kafka, runner } = setup({
      resumeFrom,
      handle: () => {
        if (rewound) return Promise.resolve<BatchOutcome>({ kind: 'done' });
        rewound = true;
        return Promise.resolve<BatchOutcome>({ kind: 'rewind', offset: '3', everyPartition: true });
      },
    });
    await runner.start();
    kafka.last.join({ t: [0, 1, 2] });
    await kafka.last.deliver('t', 0, msgs(3, 9)); // resumeFrom says 3 = where the fetch starts: no resume seek
    expect(kafka.log).toEqual(['seek t:0@3', 'seek t:1@40']);
    expect(kafka.last.commits).toEqual([]);

    const single = setup({ handle: () => Promise.resolve<BatchOutcome>({ kind: 'rewind', offset: '1' }) });
    await single.runner.start();
    single.kafka.last.join({ t: [0, 1] });
    await single.kafka.last.deliver('t', 0, msgs(4, 5));
    expect(single.kafka.log).toEqual(['seek t:0@1']);
  });

  it("seeks to the sink's resume point on the first batch after each assignment, then processes from there", async () => {
    let resume = '5';
    const { kafka, runner } = setup({ resumeFrom: () => Promise.resolve(resume) });
    await runner.start();
    kafka.last.join({ t: [0] });
    await kafka.last.deliver('t', 0, msgs(2, 6));
    expect(kafka.log).toEqual(['seek t:0@5']);
    await kafka.last.deliver('t', 0, msgs(5, 6));
    await kafka.last.deliver('t', 0, msgs(7, 7)); // checked once per assignment, not per batch
    expect(kafka.log.slice(1)).toEqual(['handle 5,6', 'resolve t:0@6', 'commit t:0@7', 'handle 7', 'resolve t:0@7', 'commit t:0@8']);

    resume = '0';
    kafka.last.join({ t: [0] }); // a rebalance: check again
    await kafka.last.deliver('t', 0, msgs(8, 8));
    expect(kafka.log.at(-1)).toBe('seek t:0@0');
  });

  it('waits for a sink store that cannot tell its progress yet, and never starts from Kafka’s commit meanwhile', async () => {
    let failures = 2;
    const { kafka, runner } = setup({
      resumeFrom: () => (failures-- > 0 ? Promise.reject(new Error('redis down')) : Promise.resolve('9')),
    });
    await runner.start();
    kafka.last.join({ t: [0] });
    await kafka.last.deliver('t', 0, msgs(0, 1));
    expect(kafka.log).toEqual(['seek t:0@9']);
  });

  it('stop during a retry leaves the unfinished chunk uncommitted', async () => {
    let calls = 0;
    const { kafka, runner } = setup({
      retryInitialMs: 20,
      retryMaxMs: 20,
      handle: () => {
        calls++;
        return Promise.resolve<BatchOutcome>({ kind: 'retry', error: new Error('down') });
      },
    });
    await runner.start();
    const batch = kafka.last.deliver('t', 0, msgs(0, 1));
    while (calls < 2) await new Promise((r) => setTimeout(r, 5));
    await runner.stop();
    await batch;
    expect(kafka.last.commits).toEqual([]);
    expect(kafka.log.filter((l) => l.startsWith('resolve'))).toEqual([]);
    expect(runner.isReady).toBe(false);
  });

  it('retries the commit of a finished chunk during shutdown', async () => {
    const { kafka, runner } = setup({ retryInitialMs: 20, retryMaxMs: 20 });
    await runner.start();
    kafka.last.failCommits = 2;
    const batch = kafka.last.deliver('t', 0, msgs(0, 0));
    while (!kafka.log.includes('commit failed')) await new Promise((r) => setTimeout(r, 2));
    await runner.stop();
    await batch;
    expect(kafka.log).toEqual(['handle 0', 'resolve t:0@0', 'commit failed', 'commit failed', 'commit t:0@1']);
  });

  it('gives up on the commit during shutdown after 3 tries (the chunk replays, idempotent sinks absorb it)', async () => {
    const { kafka, runner } = setup({ retryInitialMs: 10, retryMaxMs: 10 });
    await runner.start();
    kafka.last.failCommits = 10;
    const batch = kafka.last.deliver('t', 0, msgs(0, 0));
    while (!kafka.log.includes('commit failed')) await new Promise((r) => setTimeout(r, 2));
    await runner.stop();
    await batch;
    expect(kafka.log.filter((l) => l === 'commit failed')).toHaveLength(3);
    expect(kafka.last.commits).toEqual([]);
  });

  it('stops at a non-retriable TallyError: onFatal, no retry, no commit', async () => {
    const schema = new TallyError('SCHEMA_MISMATCH', 'column gone', { retriable: false });
    let calls = 0;
    const { kafka, fatal, runner } = setup({
      handle: () => {
        calls++;
        return Promise.reject(schema);
      },
    });
    await runner.start();
    await kafka.last.deliver('t', 0, msgs(0, 0));
    expect(fatal).toEqual([schema]);
    expect(calls).toBe(1);
    expect(kafka.last.commits).toEqual([]);
  });

  it('a retriable TallyError is retried like any transient error', async () => {
    let calls = 0;
    const { kafka, fatal, runner } = setup({
      handle: () =>
        ++calls < 2
          ? Promise.reject(new TallyError('KAFKA_UNAVAILABLE', 'x', { retriable: true }))
          : Promise.resolve<BatchOutcome>({ kind: 'done' }),
    });
    await runner.start();
    await kafka.last.deliver('t', 0, msgs(0, 0));
    expect(fatal).toEqual([]);
    expect(kafka.last.commits.map((c) => c.offset)).toEqual(['1']);
  });

  it('does not process a stale batch (the partition was revoked)', async () => {
    const { kafka, runner } = setup();
    await runner.start();
    await kafka.last.deliver('t', 0, msgs(0, 0), { isStale: () => true });
    expect(kafka.log).toEqual([]);
  });

  it('a crash kafkajs will not restart from is fatal unless the broker is only away, then a new consumer runs', async () => {
    const { kafka, fatal, runner } = setup();
    await runner.start();
    kafka.last.join({ t: [0] });
    kafka.last.crash(new Error('restarting'), true);
    expect(fatal).toEqual([]);
    expect(runner.isReady).toBe(false);

    const denied = new KafkaJSProtocolError('Not authorized to access group');
    kafka.last.crash(denied, false);
    expect(fatal).toEqual([denied]);

    kafka.last.crash(new KafkaJSConnectionError('connect ECONNREFUSED 127.0.0.1:9092'), false);
    const first = kafka.last;
    while (kafka.consumers.length < 2 || !kafka.last.running) await new Promise((r) => setTimeout(r, 20));
    expect(first.connected).toBe(false);
    expect(kafka.last.subscribed).toEqual({ topics: ['t'], fromBeginning: true });
    await kafka.last.deliver('t', 0, msgs(0, 0));
    expect(kafka.last.commits.map((c) => c.offset)).toEqual(['1']);
    await runner.stop();
  });
});
