import { eventually } from '../helpers/env';
import { expectConserved, faultWorld, summary } from './world';

// Scenario 1: the counter is SIGKILLed in the middle of a batch while events keep arriving, and
// restarted. Its progress lives in Redis atomically with the counts, so the restarted process
// neither re-counts the chunk it was applying nor skips anything: Redis and MySQL counts are exact.
const { world } = faultWorld({ consumerEnv: { counter: { MAX_CHUNK: '50' } } });

it('counter SIGKILLed mid-batch under load, restarted: exact counts everywhere', async () => {
  await world.startAll();
  const load = world.load(3_000, { batch: 50, paceMs: 20 });

  // Mid-batch under load: the counter has applied something and still has a backlog.
  const atKill = await world.busyWithBacklog('counter');
  const killed = await world.signal('counter', 'SIGKILL');
  expect(killed.signal).toBe('SIGKILL');
  expect(atKill.lag).toBeGreaterThan(0);

  // Events keep arriving while it is down; it comes back while the load is still running.
  await eventually(
    async () => (load.posted() >= 2_000 || (await world.lag('counter')) > atKill.lag + 200 ? true : undefined),
    60_000,
    'more events while the counter is down',
  );
  await world.start('counter');
  await load.done;

  const report = await world.conserve();
  console.log(summary('counter-sigkill', report));
  expect(report.driven).toBe(3_000);
  expectConserved(report);
}, 300_000);
