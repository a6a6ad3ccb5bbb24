import mysql from 'mysql2/promise';
import { createElasticsearchClient } from '@tally/clients';
import { env, eventually } from '../helpers/env';
import { expectConserved, faultWorld, summary } from './world';

// Scenarios 11 and 13, with the consumers running under load so the jobs race with live counting:
//   11. the flusher SIGKILLs itself at each step of its run (FLUSHER_FAILPOINT: after taking the
//       pending deltas, after the MySQL commit, before the cleanup), and two flushers start at once;
//   13. es-sync meets a bulk item OpenSearch rejects (the run fails and holds its watermark, the next
//       one converges), and snapshot-builder is SIGKILLed mid-build (the previous snapshot stays served).
// After all of it, conserve(): Redis, MySQL, OpenSearch and the Mongo dashboard are exact.
const { world } = faultWorld();

it('flusher killed at each step and run twice at once, while counting goes on: exact', async () => {
  await world.startAll();
  // Counting goes on during every flusher run below (stopped at the end, whatever was posted counts).
  const load = world.load(1_000_000, { batch: 20, paceMs: 50 });
  for (const failpoint of ['after_take', 'after_commit', 'before_cleanup']) {
    // Something to flush: the counter has counted since the last run.
    const before = await world.metric('counter', 'messages_processed_total');
    await eventually(
      async () => ((await world.metric('counter', 'messages_processed_total')) > before + 50 ? true : undefined),
      60_000,
      'new counts',
    );
    const killed = await world.runJob('flusher', [], { env: { FLUSHER_FAILPOINT: failpoint } });
    expect({ failpoint, signal: killed.signal }).toEqual({ failpoint, signal: 'SIGKILL' });
  }
  // Two at once: one holds the lock, the other exits 75 (locked elsewhere) or runs after it.
  const both = await Promise.all([world.runJob('flusher', [], { instance: 0 }), world.runJob('flusher', [], { instance: 1 })]);
  expect(both.map((r) => r.code).sort()).toEqual(expect.arrayContaining([0]));
  for (const r of both) expect([0, 75]).toContain(r.code);
  load.stop();
  await load.done;

  const report = await world.conserve();
  console.log(summary('jobs-killed (flusher)', report));
  expectConserved(report);
}, 300_000);

it('es-sync with a rejected bulk item converges; snapshot-builder killed mid-build keeps the old snapshot', async () => {
  // A stale document of movie M carries a field outside the strict mapping (as one from an older
  // writer would), so OpenSearch rejects every partial update of it while its neighbours go through.
  const es = createElasticsearchClient({ url: env.ES_URL, flavor: env.ES_FLAVOR });
  const index = Object.keys(await es.indices.getAlias({ name: `${world.esPrefix}jav` }))[0]!;
  const movie = String(world.movieIds[3]);
  const source = (await es.get<Record<string, unknown>>({ index, id: movie }))._source!;
  await es.indices.putMapping({ index, dynamic: false });
  await es.index({ index, id: movie, document: { ...source, legacy_rank: 7 }, refresh: true });
  await es.indices.putMapping({ index, dynamic: 'strict' });
  try {
    await world.load(1_500, { batch: 25, paceMs: 10 }).done;
    await world.quiet();
    expect((await world.runJob('flusher')).code).toBe(0);
    const failed = await world.runJob('es-sync');
    expect(failed.code).toBe(1);
    expect(failed.output).toMatch(new RegExp(`failed: ${movie} \\(strict_dynamic_mapping_exception[\\s\\S]*"code":"ES_SYNC_ITEMS_FAILED"`));
  } finally {
    // Repaired (what --reindex does too); conserve()'s es-sync run must converge from the held watermark.
    await es.index({ index, id: movie, document: source, refresh: true });
    await es.close();
  }

  // Snapshot-builder: one good build, more events, then a build held in its MySQL phase and SIGKILLed.
  expect((await world.runJob('snapshot-builder')).code).toBe(0);
  const served = await world.dashboard();
  await world.load(500, { batch: 25, paceMs: 10 }).done;
  await world.quiet();
  const lock = await mysql.createConnection(world.temp.url);
  try {
    await lock.query('LOCK TABLES jav WRITE');
    const p = world.spawnJob('snapshot-builder');
    await eventually(
      async () => {
        const [rows] = (await lock.query(
          "SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE DB = ? AND STATE LIKE 'Waiting for table%'",
          [world.temp.name],
        )) as unknown as [{ n: number }[]];
        return Number(rows[0]!.n) > 0 ? true : undefined;
      },
      60_000,
      'the build waiting on the jav lock',
    );
    p.signal('SIGKILL');
    expect((await p.waitExit()).signal).toBe('SIGKILL');
  } finally {
    await lock.query('UNLOCK TABLES');
    await lock.end();
  }
  expect(await world.dashboard()).toEqual(served); // the reader's cache still holds the last good build

  const report = await world.conserve(); // runs es-sync and snapshot-builder again: both must be exact
  console.log(summary('jobs-killed (es-sync, snapshot-builder)', report));
  expectConserved(report);
}, 300_000);
