import { eventSchemaCatalog, RegistryCodec } from '@tally/kafka';
import { EVENT_TYPES } from '@tally/events';
import { eventually } from '../helpers/env';
import type { ServiceProcess } from '../helpers/process';
import { byStatus, RetryingLoad } from './retrying-load';
import { CONSUMERS, expectConserved, faultWorld, summary } from './world';

// Scenario 14: the schema registry (this world's own Apicurio, run in memory — REGISTRY_STORAGE=mem,
// tests/faults/private-server.ts) is restarted under load and comes back empty. The stack's and
// compose's registries keep their data in MySQL and come back whole (tests/stack/registry-storage);
// this is the repair path for whoever runs one without storage. The ingest API keeps accepting while it is down (it encodes with cached ids),
// notices the empty registry, registers the catalog again (503 meanwhile, never a 202 it cannot
// back) and gets the same ids; a consumer started cold afterwards resolves the ids of messages
// written before the restart from the new registry. Nothing is dead-lettered, nothing is lost.
// Twice: first the ingest API repairs the registry before the cold consumer starts; then the cold
// consumer starts at once and races the ingest API's check (whoever registers first, the ids agree).
// Why the ids come back the same, and when they would not (a registry that held more than the current
// catalog: an older schema version, other subjects), is in RegistryCodec's comment
// (packages/kafka/src/codec.ts); this world's registry holds exactly the catalog.
const { world } = faultWorld({ privateServers: ['registry'] });

const RESET_NOTICED = 'the registry lost the schemas';

function ingest(): ServiceProcess {
  return (world as unknown as { ingest: ServiceProcess }).ingest;
}

/** subject → id the registry has for each catalog schema (looked up, never registered). */
async function registeredIds(): Promise<Record<string, number>> {
  const codec = new RegistryCodec(world.registryUrl, { catalog: eventSchemaCatalog(world.prefix) });
  return Object.fromEntries(await codec.lookupCatalog());
}

it('registry restarted empty under load (twice): ingest and consumers re-register with the same ids, nothing dead-lettered, exact', async () => {
  await world.startAll();
  const registry = world.servers.registry!;
  const ids = await registeredIds();
  expect(Object.keys(ids)).toHaveLength(EVENT_TYPES.length);
  // About 100 events/s: a steady stream through both restarts, a few thousand events in all.
  const load = new RetryingLoad(world, { batch: 25, paceMs: 250, retryMs: 250, hangMs: 10_000 });
  const t0 = Date.now();
  const phases: { name: string; down: number; back: number; repairedMs: number; ingestNoticed: boolean }[] = [];
  try {
    await load.acknowledgedMore(500, 60_000, 'before the registry restart');

    for (const coldStart of ['after the ingest repair', 'at once'] as const) {
      // Cold: the event-logger caches nothing across the restart, and it has a backlog written with
      // the ids of the old registry.
      expect((await world.signal('event-logger', 'SIGTERM')).code).toBe(0);
      const resetsBefore = ingest().output.split(RESET_NOTICED).length - 1;
      await registry.down();
      const down = Date.now();
      // The ingest API needs no registry while it has its ids.
      await load.acknowledgedMore(200, 30_000, 'while the registry is down');
      await registry.up();
      const back = Date.now();

      if (coldStart === 'at once') await world.start('event-logger');
      // Put back within the ingest API's check interval (5 s), or by the cold consumer's start.
      await eventually(
        async () => (Object.keys(await registeredIds()).length === EVENT_TYPES.length ? true : undefined),
        30_000,
        `all ${EVENT_TYPES.length} schemas registered again`,
      );
      const repairedMs = Date.now() - back;
      expect(await registeredIds()).toEqual(ids);
      if (coldStart === 'after the ingest repair') {
        // Only the ingest API could have put them back (the warm counter and history never ask the
        // registry), and it saw the registry empty: a restart did lose everything.
        expect(ingest().output.split(RESET_NOTICED).length - 1).toBe(resetsBefore + 1);
        await world.start('event-logger');
      }
      await load.acknowledgedMore(
        500,
        60_000,
        `after the registry restart (${coldStart}); ingest output:\n${ingest().output.slice(-3_000)}`,
      );
      phases.push({
        name: coldStart,
        down,
        back,
        repairedMs,
        ingestNoticed: ingest().output.split(RESET_NOTICED).length - 1 > resetsBefore,
      });
    }
  } catch (err) {
    await load.abort();
    throw err;
  }
  await load.stop();
  expect(load.abandoned).toBe(0);
  const loadMs = Date.now() - t0;

  // Refused only with 503 (while the catalog was being registered again), never a hang or a 500.
  expect(load.attempts.filter((a) => a.status !== 202 && a.status !== 503)).toEqual([]);
  expect(load.between(t0, phases[0]!.down).filter((a) => a.status !== 202)).toEqual([]);
  for (const p of phases) {
    expect({ phase: p.name, acceptedWhileDown: load.between(p.down, p.back).some((a) => a.status === 202) }).toEqual({
      phase: p.name,
      acceptedWhileDown: true,
    });
  }
  expect(await registeredIds()).toEqual(ids);

  const report = await world.conserve();
  console.log(
    `${summary('registry-restart', report)}; requests ${JSON.stringify(byStatus(load.attempts))}, load ${loadMs} ms, ` +
      `catalog back after ${phases.map((p) => `${p.repairedMs} ms (${p.name}; ingest noticed the reset: ${p.ingestNoticed})`).join(', ')}`,
  );
  expect(report.accepted).toBe(load.acknowledged);
  // Nothing was injected: any dead letter is a good event lost to the restart.
  expect(await world.readDeadLetters()).toEqual([]);
  for (const c of CONSUMERS) expect({ c, dead: await world.metric(c, 'messages_dead_lettered_total') }).toEqual({ c, dead: 0 });
  expectConserved(report);
}, 360_000);
