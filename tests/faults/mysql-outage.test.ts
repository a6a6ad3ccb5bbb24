import { eventually } from '../helpers/env';
import { CONSUMERS, expectConserved, faultWorld, summary, type Consumer } from './world';

// Scenario 7: MySQL unavailable for 60 s under load. The world's MariaDB is private (started by the
// stack script in a temp STACK_DIR) and frozen with SIGSTOP: connections stay open and every query
// hangs, the nastiest form of "unavailable" (no error to react to). The sinks whose durable store is
// MySQL (event-logger, history) must not move their offsets while their writes cannot land, must
// dead-letter nothing, and every consumer's /readyz must say 503 (they all check MySQL). After SIGCONT
// everything is exact. The counter's store is Redis, so it may go on counting (its readiness is
// still false: its rewinds and display seeds need MySQL).
const MYSQL_SINKS: readonly Consumer[] = ['event-logger', 'history'];
const OUTAGE_MS = 60_000;
const { world } = faultWorld({ privateServers: ['mariadb'] });

it('MySQL frozen for 60 s under load: no offsets advance, nothing dead-lettered, not ready, exact after', async () => {
  await world.startAll();
  await world.load(600, { batch: 50, paceMs: 10 }).done;
  await world.quiet();

  // Load that spans the outage: 25 events every ~250 ms.
  const load = world.load(4_000, { batch: 25, paceMs: 250 });
  await eventually(async () => (load.posted() >= 300 ? true : undefined), 30_000, 'load under way');
  world.servers.mariadb!.pause();
  const pausedAt = Date.now();
  let samples = 0;
  try {
    // Readiness goes false for every consumer (each checks MySQL with a 1 s limit).
    await eventually(
      async () => {
        for (const c of CONSUMERS) if ((await world.readyz(c)) !== 503) return undefined;
        return true;
      },
      20_000,
      'every consumer reporting not ready',
    );
    // From here on, the MySQL sinks' committed offsets must not move until MySQL is back. (The
    // writes already in flight when the pause began hang too, so the first sample is the baseline.)
    const baseline = await Promise.all(MYSQL_SINKS.map((c) => world.committedOffsets(c)));
    const endsAtBaseline = await world.lag('event-logger');
    while (Date.now() - pausedAt < OUTAGE_MS) {
      await new Promise((r) => setTimeout(r, 5_000)); // sampling period during the fault, not a wait for a condition
      samples++;
      for (const [i, c] of MYSQL_SINKS.entries()) {
        expect({ c, offsets: Object.fromEntries(await world.committedOffsets(c)) }).toEqual({
          c,
          offsets: Object.fromEntries(baseline[i]!),
        });
        expect({ c, readyz: await world.readyz(c) }).toEqual({ c, readyz: 503 });
        expect(world.isRunning(c)).toBe(true);
      }
    }
    // Events kept arriving during the outage (so "no offset moved" was tested against a backlog).
    expect(await world.lag('event-logger')).toBeGreaterThan(endsAtBaseline);
  } finally {
    world.servers.mariadb!.resume();
  }
  expect(samples).toBeGreaterThanOrEqual(6); // about 50 s of the outage was sampled
  await load.done;
  for (const c of CONSUMERS) await world.waitReady(c, 0, 90_000);

  const report = await world.conserve();
  console.log(summary('mysql-outage', report));
  expect(report.deadLetters.found).toBe(0);
  expectConserved(report);
}, 480_000);
