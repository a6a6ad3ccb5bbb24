import { expectConserved, faultWorld, summary } from './world';

// Scenario 12: a retrying client sends the same events (same event_id) three times, in different
// batches and orders, and a producer without idempotence writes some of them to Kafka twice more
// (new records, new offsets, same event_id). Every event counts once everywhere: one raw row, one
// counter effect, one history increment.
const { world } = faultWorld({ consumerEnv: { counter: { MAX_CHUNK: '100' } } });

it('the same event sent 3 times by the client, plus producer duplicates: counted once everywhere', async () => {
  await world.startAll();
  const events = world.makeEvents(1_200);
  const batches = (list: typeof events, size: number) =>
    Array.from({ length: Math.ceil(list.length / size) }, (_, i) => list.slice(i * size, (i + 1) * size));

  for (const b of batches(events, 100)) expect(await world.post(b)).toBe(202);
  // Second attempt: other batch boundaries, reverse order, new events mixed in.
  const fresh = world.makeEvents(300);
  for (const b of batches([...events].reverse().concat(fresh), 75)) expect(await world.post(b)).toBe(202);
  // Third attempt: interleaved differently again.
  const third = events.filter((_, i) => i % 2 === 0).concat(events.filter((_, i) => i % 2 === 1));
  for (const b of batches(third, 120)) expect(await world.post(b)).toBe(202);
  // Producer retries: 400 of them written straight to Kafka twice more.
  await world.produceCopies(events.slice(200, 600), 2);

  const report = await world.conserve();
  console.log(summary('client-retries', report));
  expect(report.accepted).toBe(1_500);
  expect(report.driven).toBe(1_200 * 3 + 300 + 400 * 2);
  expectConserved(report);
}, 300_000);
