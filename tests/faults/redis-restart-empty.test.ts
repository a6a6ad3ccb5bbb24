import { expectConserved, faultWorld, summary } from './world';

// Scenario 8: the counter's Redis (a private redis-server of this test, persistence off) is killed
// under load and started again empty. The counter must notice that its progress is gone, resume
// every partition from the offset the flusher recorded in MySQL (counter_offsets), re-seed the
// display values from MySQL, and count what came after that offset exactly once: Redis display
// values right after recovery, and MySQL after the next flush, equal seed + events.
const { world } = faultWorld({ consumerEnv: { counter: { MAX_CHUNK: '50' } } });

it('Redis restarted empty under load: counter resumes from MySQL offsets, exact after the next flush', async () => {
  await world.startAll();
  await world.load(1_500, { batch: 50, paceMs: 10 }).done;
  await world.quiet();
  // A flush records the counted offsets in MySQL: the point the counter must resume from.
  expect((await world.runJob('flusher')).code).toBe(0);
  expect(await world.temp.db('counter_offsets').count({ n: '*' }).first()).not.toEqual({ n: 0 });

  // Counted after the flush (pending in Redis only), then Redis is lost while more arrive.
  await world.load(500, { batch: 50, paceMs: 10 }).done;
  const load = world.load(1_500, { batch: 50, paceMs: 20 });
  const before = await world.metric('counter', 'messages_processed_total');
  await world.busyWithBacklog('counter', before + 100);
  await world.redis.restartEmpty();
  await load.done;
  await world.quiet();

  const counter = world.procs.get('counter')!;
  expect(counter.output).toContain('rewinding to the offset recorded in MySQL');
  expect(world.isRunning('counter')).toBe(true);

  const report = await world.conserve();
  console.log(summary('redis-restart-empty', report));
  expect(report.driven).toBe(3_500);
  expectConserved(report);
}, 300_000);

it('Redis restarted empty a second time (same counter process): exact again', async () => {
  // Counted since the last flush (conserve() above flushed), then Redis is lost again under load.
  await world.load(1_000, { batch: 50, paceMs: 10 }).done;
  await world.quiet();
  const load = world.load(1_000, { batch: 50, paceMs: 20 });
  const before = await world.metric('counter', 'messages_processed_total');
  await world.busyWithBacklog('counter', before + 100);
  await world.redis.restartEmpty();
  await load.done;
  await world.quiet();

  const report = await world.conserve();
  console.log(summary('redis-restart-empty (second time)', report));
  expect(report.driven).toBe(5_500);
  expectConserved(report);
}, 300_000);

it('Redis restarted empty, then only one topic gets events: the quiet partitions replay what they had counted too', async () => {
  // Counted since the last flush in every counted topic, then Redis is lost while nothing arrives.
  await world.load(1_000, { batch: 50, paceMs: 10 }).done;
  await world.quiet();
  await world.redis.restartEmpty();
  // After the loss only views arrive: the liked, unliked and downloaded partitions receive nothing
  // new, so no chunk of theirs can notice the loss. The counter's first rewind must move them back too.
  const views = world.makeEvents(300, ['movie.viewed']);
  for (let i = 0; i < views.length; i += 50) expect(await world.post(views.slice(i, i + 50))).toBe(202);
  await world.quiet();

  const report = await world.conserve();
  console.log(summary('redis-restart-empty (quiet partitions)', report));
  expect(report.driven).toBe(6_800);
  expectConserved(report);
}, 300_000);
