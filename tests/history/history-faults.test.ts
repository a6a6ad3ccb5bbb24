import { DLQ_HEADERS } from '@tally/kafka';
import { eventually } from '../helpers/env';
import { kafka, produceRaw, readTopic } from '../helpers/kafka';
import type { ServiceProcess } from '../helpers/process';
import { testPort } from '../helpers/services';
import {
  actualHistory,
  committedOffsets,
  createWorld,
  destroyWorld,
  EventFactory,
  expectedHistory,
  highWatermarks,
  metricSum,
  produceEvents,
  startHistory,
  storedProgress,
  waitCaughtUp,
  waitReady,
  type HistoryWorld,
  type ProducedEvent,
} from './support';

// The history service as real processes: two members sharing partitions, poison messages, MySQL blocked.
jest.setTimeout(180_000);

const PORT_A = testPort(20300);
const PORT_B = PORT_A + 1;
const procs: ServiceProcess[] = [];
const produced: ProducedEvent[] = [];
const factory = new EventFactory();
let w: HistoryWorld;
let a: ServiceProcess;

function start(port: number, extra: Record<string, string> = {}): ServiceProcess {
  const p = startHistory(w, port, extra);
  procs.push(p);
  return p;
}

async function expectExact(): Promise<void> {
  expect(await actualHistory(w)).toEqual(expectedHistory(produced));
}

beforeAll(async () => {
  w = await createWorld();
});
afterAll(async () => {
  await Promise.all(procs.map((p) => p.kill()));
  await destroyWorld(w);
});

describe('history service: faults', () => {
  it('exits 2 naming the variable when the configuration is invalid', async () => {
    const p = start(PORT_A, { MAX_CHUNK: 'lots' });
    expect((await p.waitExit()).code).toBe(2);
    expect(p.output).toContain('MAX_CHUNK');
  });

  it('two instances share the partitions and the result is exact', async () => {
    a = start(PORT_A);
    const b = start(PORT_B);
    await Promise.all([waitReady(a, PORT_A), waitReady(b, PORT_B)]);
    // Both members hold partitions before any event exists, so neither can take all the work.
    const admin = kafka.admin();
    await admin.connect();
    try {
      await eventually(
        async () => {
          const { groups } = await admin.describeGroups([w.groupId]);
          const g = groups[0]!;
          return g.state === 'Stable' && g.members.length === 2 && g.members.every((m) => m.memberAssignment.length > 0) ? true : undefined;
        },
        60_000,
        'a stable group of two members',
      );
    } finally {
      await admin.disconnect();
    }
    const batch = factory.many(10_000, 40, 150);
    produced.push(...batch);
    await produceEvents(w, batch);
    await waitCaughtUp(w);
    const processedA = await metricSum(PORT_A, 'tally_messages_processed_total');
    const processedB = await metricSum(PORT_B, 'tally_messages_processed_total');
    expect(processedA).toBeGreaterThan(0);
    expect(processedB).toBeGreaterThan(0);
    expect(processedA + processedB).toBe(batch.length);
    await expectExact();

    b.signal('SIGTERM');
    expect((await b.waitExit(40_000)).code).toBe(0);
  });

  it('poison messages go to <prefix>dead-letter with a reason; the rest is processed', async () => {
    const valid = factory.many(400, 10, 30, 200);
    produced.push(...valid);
    const invalid = factory.make('view', 201, 5);
    invalid.value.ip = 'not-an-ip'; // valid Avro, refused by the domain rules
    await produceRaw(w.viewed, [
      { key: '5', value: Buffer.from('definitely not avro') },
      { key: '5', value: await w.codec.encode(w.schemaIds.view, invalid.value) },
    ]);
    await produceEvents(w, valid);
    await waitCaughtUp(w); // a lost member (b) hands its partitions to a: wait for all of them

    const dead = await readTopic(w.deadLetter, 2);
    expect(dead.map((d) => d.headers[DLQ_HEADERS.reason]).sort()).toEqual(['invalid_payload', 'undecodable']);
    const refused = dead.find((d) => d.headers[DLQ_HEADERS.reason] === 'invalid_payload')!;
    expect(refused.headers).toMatchObject({
      [DLQ_HEADERS.service]: 'history',
      [DLQ_HEADERS.topic]: w.viewed,
      [DLQ_HEADERS.step]: 'validate',
    });
    expect(refused.headers[DLQ_HEADERS.detail]).toContain('ip must be a valid IPv4 or IPv6 address');
    await expectExact();
  });

  it('MySQL blocked for 10 s: no offset moves, nothing is dead-lettered, exact after release', async () => {
    const topics = [w.viewed, w.downloaded];
    const deadBefore = [...(await highWatermarks([w.deadLetter])).values()].reduce((x, y) => x + y, 0n);
    const locker = await w.tmp.db.transaction();
    await locker.raw('LOCK TABLES user_jav_history WRITE');
    try {
      const [progressBefore, committedBefore] = await Promise.all([storedProgress(w), committedOffsets(w.groupId, topics)]);
      const batch = factory.many(1_000, 10, 30, 300);
      produced.push(...batch);
      await produceEvents(w, batch);
      await new Promise((r) => setTimeout(r, 10_000));
      expect(await storedProgress(w)).toEqual(progressBefore);
      expect(await committedOffsets(w.groupId, topics)).toEqual(committedBefore);
      expect(await metricSum(PORT_A, 'tally_consumer_retries_total', 'step="handle"')).toBeGreaterThan(0);
    } finally {
      await locker.raw('UNLOCK TABLES');
      await locker.commit();
    }
    await waitCaughtUp(w);
    await expectExact();
    expect([...(await highWatermarks([w.deadLetter])).values()].reduce((x, y) => x + y, 0n)).toBe(deadBefore);
  });

  it('SIGTERM: drains and exits 0', async () => {
    a.signal('SIGTERM');
    expect((await a.waitExit(40_000)).code).toBe(0);
    await expect(storedProgress(w)).resolves.toBeDefined();
  });
});
