import mysql from 'mysql2/promise';
import { eventually } from '../helpers/env';
import { expectConserved, faultWorld, summary, type Consumer } from './world';

// Scenario 5: a handler slower than the session timeout. Every table of the world's MySQL database
// is write-locked by another session for 2.5× KAFKA_SESSION_TIMEOUT (6 s, see world.ts)
// while events keep arriving, so one sink write takes ~15 s. If the member stopped heartbeating
// during the write, the coordinator would expel it, the group would rebalance, and the chunk would be
// redelivered into the same lock: a rebalance storm. (kafkajs heartbeats between awaits and from its
// fetch loop; the runner adds background heartbeats while a sink write is in flight.)
// Proven here: no rejoin beyond the initial join (tally_consumer_rebalances_total counts every later GROUP_JOIN,
// expulsions included), nothing reprocessed, exact everywhere.
const SLOW: readonly Consumer[] = ['event-logger', 'history'];
const LOCK_MS = 15_000;
// One partition at a time: with more, a worker handling another (empty) partition heartbeats
// between its chunks and hides the problem; one stuck worker is the case to survive.
const { world } = faultWorld({
  consumerEnv: {
    'event-logger': { MAX_CHUNK: '50', PARTITION_CONCURRENCY: '1' },
    history: { MAX_CHUNK: '50', PARTITION_CONCURRENCY: '1' },
  },
});

it('a sink write slower than the session timeout: no rebalance, nothing reprocessed, exact', async () => {
  await world.startAll();
  await world.load(500, { batch: 50, paceMs: 10 }).done;
  await world.quiet();
  const rebalances = Object.fromEntries(
    await Promise.all(SLOW.map(async (c) => [c, await world.metric(c, 'consumer_rebalances_total')] as const)),
  );

  const load = world.load(2_000, { batch: 25, paceMs: 100 });
  const lock = await mysql.createConnection(world.temp.url);
  try {
    // All of them: one blocked table is not enough, since the sinks' other partitions would go on and
    // heartbeat between their chunks.
    const [tables] = (await lock.query('SHOW TABLES')) as unknown as [Record<string, string>[]];
    await lock.query(`LOCK TABLES ${tables.map((t) => `\`${Object.values(t)[0]}\` WRITE`).join(', ')}`);
    // Both sinks are stuck inside a write (their sessions wait for the table lock).
    await eventually(
      async () => {
        const [rows] = (await lock.query(
          "SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE DB = ? AND STATE LIKE 'Waiting for table%'",
          [world.temp.name],
        )) as unknown as [{ n: number }[]];
        return Number(rows[0]!.n) >= 2 ? true : undefined;
      },
      30_000,
      'event-logger and history waiting on the table locks',
    );
    const stuckAt = await Promise.all(SLOW.map((c) => world.committedOffsets(c)));
    await new Promise((r) => setTimeout(r, LOCK_MS)); // the fault's duration, not a wait for a condition
    // Still members of their groups: nobody else took the partitions or committed past the stuck write.
    for (const [i, c] of SLOW.entries()) {
      expect(world.isRunning(c)).toBe(true);
      const now = await world.committedOffsets(c);
      for (const [tp, at] of stuckAt[i]!) if (tp.includes('movie.viewed')) expect({ c, tp, at: now.get(tp) }).toEqual({ c, tp, at });
    }
  } finally {
    await lock.query('UNLOCK TABLES');
    await lock.end();
  }
  await load.done;

  const report = await world.conserve();
  console.log(summary('slow-sink', report));
  expectConserved(report);
  for (const c of SLOW) {
    expect({ c, rebalances: await world.metric(c, 'consumer_rebalances_total') }).toEqual({ c, rebalances: rebalances[c] });
    expect({ c, reprocessed: await world.metric(c, 'messages_reprocessed_total') }).toEqual({ c, reprocessed: 0 });
  }
}, 300_000);
