import { kafka } from '../helpers/kafka';
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
  rawSnapshot,
  startHistory,
  storedProgress,
  waitCaughtUp,
  waitReady,
  type HistoryWorld,
  type ProducedEvent,
} from './support';

// The history service as a real process, exactly once through load, replay, SIGKILL and client retries.
// Scenarios build on each other: `produced` is everything sent so far, the oracle is recomputed from it.
jest.setTimeout(180_000);

const PORT = testPort(19300);
const procs: ServiceProcess[] = [];
const produced: ProducedEvent[] = [];
const factory = new EventFactory();
let w: HistoryWorld;

function start(extra: Record<string, string> = {}): ServiceProcess {
  const p = startHistory(w, PORT, extra);
  procs.push(p);
  return p;
}

async function stopGracefully(p: ServiceProcess): Promise<void> {
  p.signal('SIGTERM');
  const exit = await p.waitExit(40_000);
  expect(exit).toEqual({ code: 0, signal: null }); // (8) SIGTERM drains, commits and exits 0
}

async function expectExact(): Promise<void> {
  expect(await actualHistory(w)).toEqual(expectedHistory(produced));
  // The progress in MySQL is at the end of every partition that has messages (no poison in this file).
  const [high, stored] = await Promise.all([highWatermarks([w.viewed, w.downloaded]), storedProgress(w)]);
  for (const [tp, h] of high) if (h > 0n) expect([tp, stored.get(tp)]).toEqual([tp, h - 1n]);
}

beforeAll(async () => {
  w = await createWorld();
});
afterAll(async () => {
  await Promise.all(procs.map((p) => p.kill()));
  await destroyWorld(w);
});

describe('history service: exactly once', () => {
  it('applies 12,000 views and downloads of 40 users on 150 movies (guests mixed in) exactly', async () => {
    const p = start();
    await waitReady(p, PORT);
    const batch = factory.many(12_000, 40, 150);
    produced.push(...batch);
    const t0 = Date.now();
    await produceEvents(w, batch);
    await waitCaughtUp(w);
    const seconds = (Date.now() - t0) / 1000;
    const rows = await metricSum(PORT, 'tally_history_rows_upserted_total');
    // Produce + apply, end to end; printed so the rate can be quoted (not asserted: machines differ).
    process.stdout.write(
      `history: ${batch.length} events, ${rows} row upserts in ${seconds.toFixed(2)} s ≈ ${Math.round(batch.length / seconds)} events/s\n`,
    );
    await expectExact();
    expect(await metricSum(PORT, 'tally_events_skipped_total', 'why="guest"')).toBe(batch.filter((e) => e.value.user_id === null).length);
    await stopGracefully(p);
  });

  it('replays everything from the beginning (offsets reset while stopped): nothing changes', async () => {
    const before = await rawSnapshot(w);
    const admin = kafka.admin();
    await admin.connect();
    try {
      for (const topic of [w.viewed, w.downloaded]) await admin.resetOffsets({ groupId: w.groupId, topic, earliest: true });
    } finally {
      await admin.disconnect();
    }
    const committed = await committedOffsets(w.groupId, [w.viewed, w.downloaded]);
    expect([...committed.values()].every((o) => o <= 0n)).toBe(true); // kafkajs stores -2: "earliest"

    const p = start();
    await waitReady(p, PORT);
    await waitCaughtUp(w);
    expect(await rawSnapshot(w)).toEqual(before); // not even updated_at moved
    expect(await metricSum(PORT, 'tally_messages_reprocessed_total')).toBeGreaterThanOrEqual(produced.length);
    expect(await metricSum(PORT, 'tally_history_rows_upserted_total')).toBe(0);
    await stopGracefully(p);
  });

  it('SIGKILL in the middle of applying, restart: exact, and Kafka never committed ahead of MySQL', async () => {
    const batch = factory.many(8_000, 30, 120, 100);
    produced.push(...batch);
    await produceEvents(w, batch);
    const topics = [w.viewed, w.downloaded];
    const total = (m: Map<string, bigint>) => [...m.values()].reduce((a, b) => a + (b < 0n ? 0n : b), 0n);
    const progressBefore = total(await storedProgress(w));
    const high = total(await highWatermarks(topics));

    // Small chunks: ~160 transactions, so the kill lands between or inside them rather than after.
    const victim = start({ MAX_CHUNK: '50', PARTITION_CONCURRENCY: '2' });
    let progressAtKill = 0n;
    const deadline = Date.now() + 45_000;
    while (progressAtKill <= progressBefore + 500n) {
      if (Date.now() > deadline) throw new Error(`no progress before the kill; output:\n${victim.output}`);
      await new Promise((r) => setTimeout(r, 25));
      progressAtKill = total(await storedProgress(w));
    }
    victim.signal('SIGKILL');
    await victim.waitExit();
    expect(progressAtKill).toBeLessThan(high - 1_000n); // really mid-way

    // The invariant that makes the restart exact: a partition's Kafka commit ≤ its MySQL progress + 1.
    const [committed, stored] = await Promise.all([committedOffsets(w.groupId, topics), storedProgress(w)]);
    for (const [tp, c] of committed) if (c >= 0n) expect(c).toBeLessThanOrEqual((stored.get(tp) ?? -1n) + 1n);
    const behind = [...stored].filter(([tp, s]) => (committed.get(tp) ?? -1n) < s + 1n).length;
    process.stdout.write(
      `history: killed at ${progressAtKill - progressBefore} of ~${high - progressBefore} offsets; ${behind} partitions had MySQL ahead of Kafka\n`,
    );

    const p = start();
    await waitReady(p, PORT);
    await waitCaughtUp(w, 90_000); // the killed member holds its partitions until its 30 s session expires
    await expectExact();
    await stopGracefully(p);
  });

  it('the same event produced 3 times at different offsets (client retries) counts once', async () => {
    const p = start();
    await waitReady(p, PORT);
    const retried = factory.make('view', 9_001, 77);
    const retriedDownload = factory.make('download', 9_001, 77);
    for (let i = 0; i < 3; i++) {
      // Other traffic between the copies puts them at different offsets, some in other chunks.
      const filler = factory.many(300, 5, 20, 500);
      produced.push(retried, retriedDownload, ...filler);
      await produceEvents(w, [retried, retriedDownload]);
      await produceEvents(w, filler);
    }
    await waitCaughtUp(w);
    const row = (await actualHistory(w)).find((r) => r.user_id === 9_001 && r.jav_id === 77);
    expect(row).toMatchObject({
      view_count: 1,
      download_count: 1,
      downloaded: 1,
      ip: retried.value.ip,
      last_viewed_at: retried.value.occurred_at,
    });
    expect(await metricSum(PORT, 'tally_events_skipped_total', 'why="event_applied"')).toBeGreaterThanOrEqual(4);
    await expectExact();
    await stopGracefully(p);
  });
});
