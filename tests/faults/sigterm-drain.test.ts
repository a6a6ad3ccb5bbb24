import { CONSUMERS, expectConserved, faultWorld, summary } from './world';

// Scenario 3: SIGTERM reaches each consumer in turn while it is processing under load. Each one must
// finish its chunk, commit, and exit 0 within its shutdown deadline (SHUTDOWN_TIMEOUT=20s, see
// world.ts); the restarted process then starts exactly after what was committed, so it reprocesses
// nothing (messages_reprocessed_total stays 0) and the counts stay exact.
const { world } = faultWorld({
  consumerEnv: { 'event-logger': { MAX_CHUNK: '50' }, counter: { MAX_CHUNK: '50' }, history: { MAX_CHUNK: '50' } },
});

it('SIGTERM each consumer mid-batch: exit 0, nothing reprocessed after restart, exact counts', async () => {
  await world.startAll();
  const load = world.load(6_000, { batch: 25, paceMs: 40 });

  for (const c of CONSUMERS) {
    const at = await world.busyWithBacklog(c);
    expect(at.lag).toBeGreaterThan(0);
    // signal() waits at most 30 s; the service's own deadline is 20 s.
    expect(await world.signal(c, 'SIGTERM')).toEqual({ code: 0, signal: null });
    if (c === 'counter') {
      // It committed what it applied: Kafka's offsets are exactly one past the progress kept in Redis.
      const applied = await world.redis.client.hgetall('tally:counter:applied');
      const committed = await world.committedOffsets(c);
      for (const [tp, last] of Object.entries(applied))
        expect({ tp, committed: committed.get(tp) }).toEqual({ tp, committed: Number(last) + 1 });
    }
    await world.start(c);
  }
  load.stop();
  await load.done;

  const report = await world.conserve();
  console.log(summary('sigterm-drain', report));
  expectConserved(report);
  // The restarted processes started exactly after what their predecessors committed.
  const reprocessed: Record<string, number> = {};
  for (const c of CONSUMERS) {
    expect(await world.metric(c, 'messages_processed_total')).toBeGreaterThan(0);
    reprocessed[c] = await world.metric(c, 'messages_reprocessed_total');
  }
  expect(reprocessed).toEqual({ 'event-logger': 0, counter: 0, history: 0 });
}, 300_000);
