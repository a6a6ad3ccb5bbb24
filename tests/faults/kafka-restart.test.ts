import { eventually } from '../helpers/env';
import { endOffsets } from '../helpers/pipeline';
import { byStatus, RetryingLoad, type Attempt } from './retrying-load';
import { CONSUMERS, expectConserved, faultWorld, summary } from './world';
import { alive, type ServiceProcess } from '../helpers/process';

// Scenario 6: the Kafka broker (a private one: this world's own, data directory kept) is stopped
// under load — first cleanly (SIGTERM), then by SIGKILL — kept down for OUTAGE_MS and started
// again. While it is gone the ingest API must refuse with 503 within its produce timeout (never a
// 202 it cannot back, never another 5xx, never a hang); a client resubmitting refused batches with
// the same event ids gets every event in exactly once; the consumers ride the outage out in the same
// processes (nobody restarts them) and drain to lag 0.
const { world } = faultWorld({ privateServers: ['kafka'] });

const PRODUCE_TIMEOUT_MS = 5_000; // the ingest API's PRODUCE_TIMEOUT default
const OUTAGE_MS = 10_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Outage {
  how: 'SIGTERM' | 'SIGKILL';
  /** The broker process is gone (down() returned / the kill was seen). */
  gone: number;
  /** up() was called. */
  restarting: number;
  /** up() returned: the broker is healthy again. */
  up: number;
  /** The first 202 answered after up() returned. */
  recovered: number;
}

function ingestOutput(): string {
  return (world as unknown as { ingest?: ServiceProcess }).ingest?.output.slice(-4_000) ?? '';
}

it('Kafka broker restarted under load (SIGTERM, then SIGKILL): 503 while it is gone, every 202 exactly once, consumers recover', async () => {
  await world.startAll();
  const pids = Object.fromEntries(CONSUMERS.map((c) => [c, world.procs.get(c)!.child.pid]));
  const kafka = world.servers.kafka!;
  const load = new RetryingLoad(world, { batch: 50, paceMs: 20, retryMs: 250, hangMs: PRODUCE_TIMEOUT_MS + 5_000, concurrency: 2 });
  const outages: Outage[] = [];
  // Consumers' /readyz while the broker is gone (reported, not asserted: readiness says "member of
  // the group", which kafkajs' own restart keeps).
  const readiness: Record<string, number> = {};
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      for (const c of CONSUMERS) {
        const k = `${c} ${await world.readyz(c)}`;
        readiness[k] = (readiness[k] ?? 0) + 1;
      }
      await sleep(1_000);
    }
  })();
  const t0 = Date.now();
  try {
    await load.acknowledgedMore(500, 60_000, 'before the first outage');
    for (const how of ['SIGTERM', 'SIGKILL'] as const) {
      if (how === 'SIGTERM') {
        await kafka.down();
      } else {
        const pid = kafka.pid();
        process.kill(-pid, 'SIGKILL');
        await eventually(async () => (alive(pid) ? undefined : true), 10_000, 'the killed broker gone');
      }
      const gone = Date.now();
      await sleep(OUTAGE_MS);
      const restarting = Date.now();
      await kafka.up();
      const up = Date.now();
      await load.acknowledgedMore(500, 120_000, `after the ${how} restart; ingest output:\n${ingestOutput()}`);
      outages.push({ how, gone, restarting, up, recovered: load.between(up).find((a) => a.status === 202)!.at });
    }
  } catch (err) {
    await load.abort();
    throw err;
  } finally {
    await load.stop();
    sampling = false;
    await sampler;
  }
  expect(load.abandoned).toBe(0);
  const loadMs = Date.now() - t0;

  const refused = load.attempts.filter((a) => a.status !== 202);
  const describe = (as: Attempt[]) => JSON.stringify(as.slice(0, 10));
  // Refusals are 503 only: no 500, no connection error, no request left without an answer.
  expect({ refused: describe(refused.filter((a) => a.status !== 503)) }).toEqual({ refused: '[]' });
  // Bounded by the produce timeout (plus scheduling slack on a loaded machine), never a hang.
  const slowest = Math.max(...load.attempts.map((a) => a.ms));
  expect(slowest).toBeLessThan(PRODUCE_TIMEOUT_MS + 2_500);
  for (const o of outages) {
    // Nothing answered 202 that was asked and answered entirely while no broker existed.
    const whileGone = load.attempts.filter((a) => a.at >= o.gone && a.at + a.ms < o.restarting);
    expect({ how: o.how, accepted: whileGone.filter((a) => a.status === 202).length }).toEqual({ how: o.how, accepted: 0 });
    // The outage was seen: the client was told to retry.
    expect({ how: o.how, refused: whileGone.filter((a) => a.status === 503).length > 0 }).toEqual({ how: o.how, refused: true });
    // And accepted again once the broker was back.
    expect(load.between(o.up).some((a) => a.status === 202)).toBe(true);
  }
  expect(load.between(t0, outages[0]!.gone).some((a) => a.status === 202)).toBe(true);

  // The consumers recovered by themselves: the same processes, ready, and (in conserve) lag 0.
  for (const c of CONSUMERS) {
    expect({ c, running: world.isRunning(c), pid: world.procs.get(c)!.child.pid }).toEqual({ c, running: true, pid: pids[c] });
    await eventually(async () => ((await world.readyz(c)) === 200 ? true : undefined), 60_000, `${c} ready`);
  }

  const report = await world.conserve();
  // Records in Kafka beyond the accepted events: refused batches that landed anyway and were resubmitted
  // (a 503 means "not acknowledged", not "not written"); the sinks' dedup by event_id absorbed them.
  const inKafka = [...(await endOffsets(world.names.eventTopics, world.kafka)).values()].reduce((a, b) => a + b, 0);
  expect(inKafka).toBeGreaterThanOrEqual(report.accepted);
  const crashes = CONSUMERS.map((c) => `${c} ${world.procs.get(c)!.output.split('consumer crashed').length - 1}`).join(', ');
  console.log(
    `${summary('kafka-restart', report)}; records in Kafka ${inKafka} (${inKafka - report.accepted} copies), requests ${JSON.stringify(byStatus(load.attempts))}, slowest ${slowest} ms, load ${loadMs} ms; ` +
      `${outages
        .map(
          (o) =>
            `${o.how}: broker gone ${o.restarting - o.gone} ms, starting ${o.up - o.restarting} ms, first 202 ${o.recovered - o.up} ms after, ` +
            `503s ${load.between(o.gone, o.recovered).filter((a) => a.status === 503).length}`,
        )
        .join('; ')}; ` +
      `kafkajs crash-restarts (${crashes}); consumer readyz samples ${JSON.stringify(readiness)}`,
  );
  expect(report.accepted).toBe(load.acknowledged);
  expectConserved(report);
}, 360_000);
