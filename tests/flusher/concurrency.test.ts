import { FlusherWorld } from './support';

// Two flusher processes started together against the same pending deltas, with the real counter
// feeding them: only one takes the deltas (the other finds the job lock held, exit 75, or nothing
// left to take), and MySQL is exact.
const world = new FlusherWorld(30, 27_000);

beforeAll(() => world.setup(), 120_000);
afterAll(() => world.teardown());

it('two flushers at once: exactly one flush of the deltas, MySQL exact', async () => {
  world.startCounter();
  await world.produceMix(3_000);
  await world.caughtUp();
  const ledgerBefore = Number(((await world.temp.db('flush_ledger').count({ n: '*' })) as { n: number }[])[0]!.n);
  const [a, b] = [world.flusher(), world.flusher()];
  const codes = [(await a.waitExit(60_000)).code, (await b.waitExit(60_000)).code].sort();
  // 75 when the runs overlapped (the usual case), 0 for both when one finished before the other began.
  expect([
    [0, 75],
    [0, 0],
  ]).toContainEqual(codes);
  const ledger = (await world.temp.db('flush_ledger').select('flush_id', 'delta_fields')) as { flush_id: string; delta_fields: number }[];
  expect(ledger.length).toBe(ledgerBefore + 1);
  expect(Number(ledger[ledger.length - 1]!.delta_fields)).toBeGreaterThan(0);
  const runs = (await world.temp.db('job_runs').where({ job: 'flusher' }).select('status', 'items')) as { status: string; items: number }[];
  expect(runs.filter((r) => Number(r.items) > 0)).toHaveLength(1);
  await world.assertExact({ flushed: true });
}, 120_000);
