import { FlusherWorld } from './support';

// Redis loses everything between two flushes (the private redis-server emptied while the counter is
// down, as a restart without persistence would leave it): the counter resumes from the Kafka offsets
// the flusher recorded in MySQL (counter_offsets), replays what Redis had not flushed yet, and the
// next flush makes MySQL exact again — the lost deltas are neither missing nor counted twice.
const world = new FlusherWorld(30, 26_000);

beforeAll(() => world.setup(), 120_000);
afterAll(() => world.teardown());

it('Redis emptied between flushes: after the counter resumes from MySQL offsets, MySQL is exact after the next flush', async () => {
  const counter = world.startCounter();
  await world.produceMix(2_000);
  await world.caughtUp();
  expect((await world.flushOnce()).code).toBe(0);
  await world.assertExact({ flushed: true });
  // Each counted partition's highest flushed offset is in MySQL, equal to what the counter had applied.
  const applied = await world.redis.client.hgetall('tally:counter:applied');
  const recorded = (await world.temp.db('counter_offsets').select('topic', 'partition', 'offset')) as {
    topic: string;
    partition: number;
    offset: number;
  }[];
  expect(recorded.length).toBeGreaterThan(0);
  expect(Object.fromEntries(recorded.map((r) => [`${r.topic}:${r.partition}`, String(r.offset)]))).toEqual(applied);

  // Counted in Redis only, then lost with it.
  await world.produceMix(1_000);
  await world.caughtUp();
  expect((await world.pending()).size).toBeGreaterThan(0);
  counter.signal('SIGTERM');
  expect((await counter.waitExit()).code).toBe(0);
  await world.redis.client.flushall(); // a private redis-server: nobody else uses it

  world.startCounter();
  await world.produceMix(500);
  await world.caughtUp();
  await world.assertExact({ flushed: false });
  expect((await world.flushOnce()).code).toBe(0);
  await world.assertExact({ flushed: true });
  // The offsets MySQL records moved to the new end, so a second loss would replay only what follows.
  const after = (await world.temp.db('counter_offsets').select('topic', 'partition', 'offset')) as {
    topic: string;
    partition: number;
    offset: number;
  }[];
  for (const r of after)
    expect(Number(r.offset)).toBeGreaterThanOrEqual(
      Number(recorded.find((x) => x.topic === r.topic && x.partition === r.partition)?.offset ?? -1),
    );
}, 180_000);
