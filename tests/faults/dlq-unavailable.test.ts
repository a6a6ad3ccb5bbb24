import { deleteTopics } from '../helpers/kafka';
import { eventually } from '../helpers/env';
import { CONSUMERS, CONSUMES, expectConserved, faultWorld, summary, type PoisonKind } from './world';
import type { EventType } from '@tally/events';

// Scenario 10: the dead-letter topic is unavailable (deleted; the broker does not auto-create
// topics) when poison arrives in the middle of a load. A consumer may not skip a message it could
// not park: it must retry the dead-letter write and never commit the poison's offset, while the
// events behind it in that partition wait (order within a partition is kept). Once the topic is
// back, every poison message is dead-lettered exactly once and everything else is processed exactly.
const { world } = faultWorld();
const POISON: [EventType, PoisonKind][] = [
  ['movie.viewed', 'random_bytes'],
  ['movie.liked', 'unknown_schema'],
  ['search.performed', 'invalid_values'],
];
const OUTAGE_MS = 15_000;

it('dead-letter topic unavailable: the poison offset is not committed, nothing lost, each poison parked once after', async () => {
  await deleteTopics([world.names.deadLetter], world.kafka);
  await world.startAll();
  const load = world.load(2_000, { batch: 25, paceMs: 40 });
  await eventually(async () => (load.posted() >= 500 ? true : undefined), 60_000, '500 events posted');
  const injected = [];
  for (const [type, kind] of POISON) injected.push({ type, ...(await world.injectPoison(type, kind)) });

  await new Promise((r) => setTimeout(r, OUTAGE_MS)); // the outage's duration, not a wait for a condition
  for (const c of CONSUMERS) {
    expect(world.isRunning(c)).toBe(true);
    const committed = await world.committedOffsets(c);
    for (const p of injected) {
      if (!CONSUMES[c].includes(p.type)) continue;
      // At most up to the poison (the next offset to read is the poison itself), never past it.
      const at = committed.get(`${p.topic}:${p.partition}`) ?? -1;
      expect({ c, topic: p.topic, atMostPoison: at <= p.offset }).toEqual({ c, topic: p.topic, atMostPoison: true });
    }
    // Still waiting on its dead-letter write (the producer retries the request until the topic is
    // back; the runner does not start a second copy meanwhile).
    expect({ c, deadLettered: await world.metric(c, 'messages_dead_lettered_total') }).toEqual({ c, deadLettered: 0 });
  }

  world.setupTopics(); // the dead-letter topic is back
  await load.done;
  const report = await world.conserve();
  console.log(summary('dlq-unavailable', report));
  expect(report.deadLetters.expected).toBe(3 + 2 + 1); // event-logger 3, counter 2 (views, likes), history 1 (views)
  expectConserved(report);
}, 300_000);
