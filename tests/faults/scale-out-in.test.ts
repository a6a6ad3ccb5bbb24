import { eventually } from '../helpers/env';
import { CONSUMERS, expectConserved, faultWorld, summary } from './world';

// Scenario 4: ops scale each consumer 1 → 3 → 1 while 100,000 events arrive. Every join and every
// leave is a rebalance that moves partitions (6 per topic) between members mid-stream; a partition's
// new owner must start exactly where the sink's progress says, and a member leaving (SIGTERM) must
// finish and commit its chunk first. Proven: the extra instances did real work, the first instance
// saw the rebalances, every group's lag returns to 0, and every store is exact.
const TOTAL = 100_000;
const { world } = faultWorld();

it('each consumer scaled 1 → 3 → 1 during 100,000 events: exact, lag back to 0', async () => {
  await world.startAll();
  const rebalancesAtStart = Object.fromEntries(
    await Promise.all(CONSUMERS.map(async (c) => [c, await world.metric(c, 'consumer_rebalances_total')] as const)),
  );
  const load = world.load(TOTAL, { batch: 250, paceMs: 40 });

  // Scale out at 20 % posted: two more instances of each service join their groups.
  await eventually(async () => (load.posted() >= TOTAL * 0.2 ? true : undefined), 180_000, '20 % posted');
  for (const c of CONSUMERS) for (const i of [1, 2]) await world.start(c, i);

  // Scale in at 60 %: the extra instances leave cleanly (SIGTERM → finish the chunk, commit, exit 0).
  await eventually(async () => (load.posted() >= TOTAL * 0.6 ? true : undefined), 300_000, '60 % posted');
  const workedByExtras: Record<string, number> = {};
  for (const c of CONSUMERS) {
    workedByExtras[c] = 0;
    for (const i of [1, 2]) {
      workedByExtras[c] += await world.metric(c, 'messages_processed_total', i);
      expect(await world.signal(c, 'SIGTERM', i)).toEqual({ code: 0, signal: null });
    }
  }
  await load.done;
  await world.quiet(300_000);

  for (const c of CONSUMERS) {
    // The extra instances took partitions and processed messages...
    expect({ c, worked: workedByExtras[c]! > 0 }).toEqual({ c, worked: true });
    // ...and the remaining instance went through the joins and the leaves.
    expect({ c, rebalanced: (await world.metric(c, 'consumer_rebalances_total')) - rebalancesAtStart[c]! >= 2 }).toEqual({
      c,
      rebalanced: true,
    });
    expect({ c, lag: await world.lag(c) }).toEqual({ c, lag: 0 });
  }
  const report = await world.conserve();
  console.log(summary('scale-out-in', report));
  expect(report.driven).toBe(TOTAL);
  expectConserved(report);
}, 900_000);
