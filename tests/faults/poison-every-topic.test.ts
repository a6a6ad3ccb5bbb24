import { eventually } from '../helpers/env';
import { ALL_TYPES, CONSUMERS, CONSUMES, expectConserved, faultWorld, summary, type PoisonKind } from './world';

// Scenario 9: poison in every topic, between valid events: random bytes (not the wire format), an
// unknown schema id, and valid Avro of the right schema with a value no consumer accepts
// (event_id "not-a-uuid"). Every consumer that reads the topic dead-letters each one once, with
// its reason in the tally-dlq-reason header, and processes everything else.
const { world } = faultWorld();
const KINDS: PoisonKind[] = ['random_bytes', 'unknown_schema', 'invalid_values'];

it('poison in every topic: all in the dead-letter topic with reasons, everything else processed', async () => {
  await world.startAll();
  const load = world.load(2_000, { batch: 50, paceMs: 20 });
  // Spread the poison over the load: one kind after every 500 valid events posted.
  for (const [i, kind] of KINDS.entries()) {
    await eventually(async () => (load.posted() >= (i + 1) * 500 ? true : undefined), 60_000, `${(i + 1) * 500} events posted`);
    for (const type of ALL_TYPES) await world.injectPoison(type, kind);
  }
  await load.done;

  const report = await world.conserve();
  console.log(summary('poison-every-topic', report));
  // Every topic × 3 kinds for each consumer that reads it (event-logger all, counter its counted and
  // featured topics, history views and downloads): counts from the bindings' copy, not written here.
  const perKind = CONSUMERS.reduce((n, c) => n + CONSUMES[c].length, 0);
  expect(report.deadLetters.expected).toBe(perKind * KINDS.length);
  expectConserved(report);

  // The services count what they dead-lettered, by reason.
  for (const c of CONSUMERS) {
    expect({ c, dead: await world.metric(c, 'messages_dead_lettered_total') }).toEqual({ c, dead: CONSUMES[c].length * KINDS.length });
  }
  // Each dead letter says which step refused it and why.
  for (const h of await world.readDeadLetters()) {
    expect(['undecodable', 'unknown_schema', 'invalid_payload']).toContain(h['tally-dlq-reason']);
    expect(h['tally-dlq-detail']).toBeTruthy();
  }
  // snapshot-builder copied them into MySQL: the dashboard counts them by reason.
  const dashboard = await world.dashboard();
  const byReason = Object.fromEntries(dashboard!.dead_letters.map((d) => [d.reason, d.count]));
  expect(byReason).toEqual({ undecodable: perKind, unknown_schema: perKind, invalid_payload: perKind });
}, 300_000);
