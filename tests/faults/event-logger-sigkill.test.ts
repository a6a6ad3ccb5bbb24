import { eventually } from '../helpers/env';
import { expectConserved, faultWorld, summary } from './world';

// Scenario 2: the event-logger is SIGKILLed while it writes a chunk (rows inserted, offset not yet
// committed, or the transaction half done) under load, and restarted. The redelivered chunk must
// neither duplicate a row nor leave a gap: exactly one raw row per accepted event id.
const { world } = faultWorld({ consumerEnv: { 'event-logger': { MAX_CHUNK: '50' } } });

it('event-logger SIGKILLed mid-batch under load, restarted: exact rows, no duplicates, no gaps', async () => {
  await world.startAll();
  const load = world.load(3_000, { batch: 50, paceMs: 20 });

  const atKill = await world.busyWithBacklog('event-logger');
  expect((await world.signal('event-logger', 'SIGKILL')).signal).toBe('SIGKILL');
  expect(atKill.lag).toBeGreaterThan(0);

  await eventually(
    async () => (load.posted() >= 2_000 || (await world.lag('event-logger')) > atKill.lag + 200 ? true : undefined),
    60_000,
    'more events while the event-logger is down',
  );
  await world.start('event-logger');
  await load.done;

  const report = await world.conserve();
  console.log(summary('event-logger-sigkill', report));
  expect(report.driven).toBe(3_000);
  expectConserved(report);
}, 300_000);
