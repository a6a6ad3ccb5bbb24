import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKafka, ConsumerRunner, DLQ_HEADERS, RegistryCodec, TallyProducer, type BatchOutcome } from '@tally/kafka';
import { createLogger, ServiceMetrics } from '@tally/runtime';
import { env, eventually, uniqueName } from '../helpers/env';
import { committedOffset, createTopic, deleteTopics, produceRaw, readTopic } from '../helpers/kafka';
import { ServiceProcess } from '../helpers/process';

// The shared consumer runner against the real Kafka and registry.
const codec = new RegistryCodec(env.SCHEMA_REGISTRY_URL);
const schema = {
  type: 'record',
  name: 'RunnerTest',
  namespace: 'dev.tally.tests',
  fields: [
    { name: 'n', type: 'int' },
    { name: 'received_at', type: 'long' },
  ],
};
const topics: string[] = [];

async function freshTopic(prefix: string): Promise<{ topic: string; schemaId: number }> {
  const topic = uniqueName(prefix);
  topics.push(topic);
  await createTopic(topic, 1);
  return { topic, schemaId: await codec.register(`${topic}-value`, schema) };
}

async function produceNumbers(topic: string, schemaId: number, from: number, to: number) {
  const messages = [];
  for (let n = from; n < to; n++) messages.push({ key: `k${n}`, value: await codec.encode(schemaId, { n, received_at: Date.now() }) });
  await produceRaw(topic, messages);
}

afterAll(async () => {
  await deleteTopics(topics);
});

describe('ConsumerRunner in-process', () => {
  const logger = createLogger({ service: 'runner-test', level: 'silent' });
  const kafkaClient = createKafka({ brokers: env.KAFKA_BROKERS, clientId: 'runner-test', logger });
  const producer = new TallyProducer(kafkaClient);
  const runners: ConsumerRunner<{ n: number }>[] = [];
  beforeAll(() => producer.connect());
  afterAll(async () => {
    await Promise.all(runners.map((r) => r.stop()));
    await producer.disconnect();
  });

  function startRunner(
    topic: string,
    dlq: string,
    handle: (ns: number[]) => Promise<BatchOutcome>,
    metrics = new ServiceMetrics('runner_test', { defaultMetrics: false }),
  ) {
    const runner = new ConsumerRunner<{ n: number }>({
      kafka: kafkaClient,
      service: 'runner-test',
      groupId: uniqueName('g'),
      topics: [topic],
      codec,
      producer,
      deadLetterTopic: dlq,
      logger,
      metrics,
      maxChunk: 20,
      retryInitialMs: 50,
      retryMaxMs: 200,
      onFatal: (err) => {
        throw err;
      },
      validate: (_t, v) => {
        const n = (v as { n: number }).n;
        return n >= 0 ? { ok: true, value: v as { n: number } } : { ok: false, reason: 'n', detail: `must be ≥ 0, got ${n}` };
      },
      handle: (b) => handle(b.messages.map((m) => m.value.n)),
      lagRefreshMs: 300,
    });
    runners.push(runner);
    void runner.start();
    return { runner, metrics };
  }

  it('reports lag from the broker while the sink is stuck, and 0 once it recovers', async () => {
    const { topic, schemaId } = await freshTopic('runner_lag');
    await produceNumbers(topic, schemaId, 0, 7);
    let down = true;
    const { metrics } = startRunner(topic, uniqueName('dlq'), async () =>
      down ? { kind: 'retry', error: new Error('store down') } : { kind: 'done' },
    );
    const lag = async () =>
      Number(
        new RegExp(`tally_consumer_lag_messages\\{topic="${topic}",partition="0",service="runner_test"\\} (\\d+)`).exec(
          await metrics.registry.metrics(),
        )?.[1] ?? -1,
      );
    // Nothing commits while the store is down, yet the gauge shows the whole backlog (no batch finished).
    await eventually(async () => ((await lag()) === 7 ? true : undefined), 20_000, 'lag 7 while stuck');
    down = false;
    await eventually(async () => ((await lag()) === 0 ? true : undefined), 20_000, 'lag 0 after recovery');
  });

  it('dead-letters poison (bad bytes, unknown schema id, invalid value) with headers and processes the rest', async () => {
    const { topic, schemaId } = await freshTopic('runner_poison');
    const dlq = uniqueName('dlq');
    await createTopic(dlq);
    topics.push(dlq);
    const unknownId = Buffer.alloc(9);
    unknownId.writeInt32BE(987_654_321, 1);
    await produceNumbers(topic, schemaId, 0, 5);
    await produceRaw(topic, [
      { key: 'junk', value: Buffer.from('definitely not avro') },
      { key: 'ghost', value: unknownId },
      { key: 'neg', value: await codec.encode(schemaId, { n: -7, received_at: Date.now() }) },
    ]);
    await produceNumbers(topic, schemaId, 5, 10);

    const seen: number[] = [];
    startRunner(topic, dlq, async (ns) => {
      seen.push(...ns);
      return { kind: 'done' };
    });
    await eventually(async () => (seen.length >= 10 ? true : undefined), 30_000, 'valid messages');
    expect(seen.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);

    const dead = await readTopic(dlq, 3);
    const byKey = Object.fromEntries(dead.map((d) => [d.key, d]));
    expect(byKey.junk!.headers[DLQ_HEADERS.reason]).toBe('undecodable');
    expect(byKey.junk!.value!.toString()).toBe('definitely not avro'); // original value untouched
    expect(byKey.ghost!.headers[DLQ_HEADERS.reason]).toBe('unknown_schema');
    expect(byKey.neg!.headers).toMatchObject({
      [DLQ_HEADERS.reason]: 'invalid_payload',
      [DLQ_HEADERS.step]: 'validate',
      [DLQ_HEADERS.service]: 'runner-test',
      [DLQ_HEADERS.topic]: topic,
      [DLQ_HEADERS.partition]: '0',
      [DLQ_HEADERS.offset]: '7',
    });
    expect(byKey.neg!.headers[DLQ_HEADERS.detail]).toContain('must be ≥ 0, got -7');
    expect(Date.parse(byKey.neg!.headers[DLQ_HEADERS.time]!)).toBeGreaterThan(Date.now() - 60_000);
  });

  it('retries a transient sink error with backoff and never dead-letters it', async () => {
    const { topic, schemaId } = await freshTopic('runner_retry');
    const dlq = uniqueName('dlq');
    await createTopic(dlq);
    topics.push(dlq);
    await produceNumbers(topic, schemaId, 0, 30);
    let failures = 0;
    const applied: number[] = [];
    const { metrics } = startRunner(topic, dlq, async (ns) => {
      if (failures < 3) {
        failures++;
        return { kind: 'retry', error: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:3306'), { code: 'ECONNREFUSED' }) };
      }
      applied.push(...ns);
      return { kind: 'done' };
    });
    await eventually(async () => (applied.length >= 30 ? true : undefined), 30_000, 'all applied');
    expect(applied).toEqual(Array.from({ length: 30 }, (_, i) => i)); // in order, each once
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/tally_consumer_retries_total\{topic="[^"]+",step="handle",code="ECONNREFUSED",service="runner_test"\} 3/);
    expect(text).not.toMatch(/messages_dead_lettered_total\{/);
  });

  it('does not commit a poison offset while the dead-letter topic is unavailable, then proceeds', async () => {
    const { topic, schemaId } = await freshTopic('runner_dlqdown');
    const dlq = uniqueName('dlq_missing'); // not created yet: produce to it fails
    await produceNumbers(topic, schemaId, 0, 3);
    await produceRaw(topic, [{ key: 'junk', value: Buffer.from('xx') }]);
    const { runner } = startRunner(topic, dlq, async () => ({ kind: 'done' }));
    const groupId = (runner as unknown as { o: { groupId: string } }).o.groupId;
    await new Promise((r) => setTimeout(r, 4_000));
    expect(await committedOffset(groupId, topic)).toBe(-1);
    await createTopic(dlq);
    topics.push(dlq);
    await eventually(async () => ((await committedOffset(groupId, topic)) === 4 ? true : undefined), 30_000, 'commit after DLQ is back');
    expect((await readTopic(dlq, 1))[0]!.key).toBe('junk');
  });
});

describe('ConsumerRunner as a process', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tally-runner-'));
  const procs: ServiceProcess[] = [];
  afterAll(async () => {
    await Promise.all(procs.map((p) => p.kill()));
  });

  function spawnConsumer(topic: string, group: string, extra: Record<string, string>) {
    const p = new ServiceProcess('tests/dist/fixtures/runner-consumer.js', {
      FIXTURE_TOPIC: topic,
      FIXTURE_GROUP: group,
      FIXTURE_DLQ: 'tally.dead-letter.tests',
      FIXTURE_SINK_FILE: join(dir, `${group}.sink`),
      FIXTURE_MARK_FILE: join(dir, `${group}.mark`),
      FIXTURE_CHUNK: '10',
      ...extra,
    });
    procs.push(p);
    return p;
  }
  const mark = (group: string) => (existsSync(join(dir, `${group}.mark`)) ? readFileSync(join(dir, `${group}.mark`), 'utf8') : '');
  const sink = (group: string) =>
    existsSync(join(dir, `${group}.sink`))
      ? readFileSync(join(dir, `${group}.sink`), 'utf8')
          .trim()
          .split('\n')
          .filter(Boolean)
          .map(Number)
      : [];

  it('commits only the finished prefix: SIGKILL mid-chunk, restart, nothing skipped', async () => {
    const { topic, schemaId } = await freshTopic('runner_kill');
    await produceNumbers(topic, schemaId, 0, 100);
    const group = uniqueName('g');
    const first = spawnConsumer(topic, group, { FIXTURE_HANG_AT_OFFSET: '45' });
    await eventually(async () => (mark(group).startsWith('hanging 45') ? true : undefined), 30_000, 'consumer hanging at offset 45');
    first.signal('SIGKILL');
    await first.waitExit();
    expect(await committedOffset(group, topic)).toBe(40); // chunks 0–39 finished; 40–49 was in flight
    expect(sink(group)).toEqual(Array.from({ length: 45 }, (_, i) => i));

    const second = spawnConsumer(topic, group, {});
    await eventually(async () => ((await committedOffset(group, topic)) === 100 ? true : undefined), 45_000, 'all committed');
    second.signal('SIGTERM');
    expect((await second.waitExit()).code).toBe(0);
    const offsets = sink(group);
    // Nothing skipped; only the unfinished chunk's first half (40–44) was applied twice.
    expect([...new Set(offsets)].sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    const twice = offsets.filter((o, i) => offsets.indexOf(o) !== i).sort((a, b) => a - b);
    expect(twice).toEqual([40, 41, 42, 43, 44]);
  });

  it('exits non-zero when Kafka cannot be reached at all, so a supervisor restarts it', async () => {
    const p = spawnConsumer('unused', uniqueName('g'), { KAFKA_BROKERS: '127.0.0.1:1' });
    const exit = await p.waitExit(60_000);
    expect(exit.code).toBe(1);
    expect(p.output).toMatch(/"level":"fatal".*start failed/);
  }, 90_000);

  it('SIGTERM mid-chunk: finishes the chunk, commits it and exits 0', async () => {
    const { topic, schemaId } = await freshTopic('runner_term');
    await produceNumbers(topic, schemaId, 0, 30);
    const group = uniqueName('g');
    const p = spawnConsumer(topic, group, { FIXTURE_SLOW_MS: '3000' });
    await eventually(async () => (mark(group).startsWith('slow 0') ? true : undefined), 30_000, 'first chunk in progress');
    p.signal('SIGTERM');
    const exit = await p.waitExit(30_000);
    expect(exit.code).toBe(0);
    expect(await committedOffset(group, topic)).toBe(10);
    expect(sink(group)).toEqual(Array.from({ length: 10 }, (_, i) => i));
  });
});
