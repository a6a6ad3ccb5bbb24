import { FlusherWorld } from './support';

// The flusher SIGKILLed at each step of a flush (FLUSHER_FAILPOINT), with the real counter writing
// new deltas from real Kafka events all along: the next run must finish or discard what the killed
// one left so that MySQL ends with exactly the events produced — nothing lost, nothing twice.
const world = new FlusherWorld(30, 25_000);

beforeAll(() => world.setup(), 120_000);
afterAll(() => world.teardown());

async function ledgerIds(): Promise<string[]> {
  return ((await world.temp.db('flush_ledger').select('flush_id')) as { flush_id: string }[]).map((r) => r.flush_id);
}

describe('flusher killed mid-flush', () => {
  beforeAll(async () => {
    world.startCounter();
  });

  it.each([
    // [failpoint, is the taken flush in the MySQL ledger when the process dies?]
    ['after_take', false],
    ['after_commit', true],
    ['before_cleanup', true],
  ] as const)(
    'killed %s: the restart finishes the flush exactly once',
    async (failpoint, committed) => {
      await world.produceMix(800);
      await world.caughtUp();
      const ledgerBefore = await ledgerIds();
      const killed = await world.flushOnce({ FLUSHER_FAILPOINT: failpoint });
      expect(killed.signal).toBe('SIGKILL');

      // What the dead run left: its taken hash, registered, in the ledger or not.
      const left = await world.flushingKeys();
      expect(left).toHaveLength(1);
      const flushId = left[0]!.split(':').pop()!;
      expect(await world.redis.client.smembers('tally:counter:flushes')).toEqual([flushId]);
      expect((await ledgerIds()).includes(flushId)).toBe(committed);
      expect((await ledgerIds()).length).toBe(ledgerBefore.length + (committed ? 1 : 0));

      // The counter keeps counting into a fresh pending hash while the flusher is down.
      await world.produceMix(600);
      await world.caughtUp();
      await world.assertExact({ flushed: false });

      const restart = await world.flushOnce();
      expect(restart.code).toBe(0);
      expect(await world.flushingKeys()).toEqual([]);
      expect(await world.redis.client.smembers('tally:counter:flushes')).toEqual([]);
      // The leftover is in the ledger exactly once, plus the restart's own flush of the new deltas.
      const ledger = await ledgerIds();
      expect(ledger.filter((id) => id === flushId)).toHaveLength(1);
      expect(ledger.length).toBe(ledgerBefore.length + 2);
      await world.assertExact({ flushed: true });
    },
    120_000,
  );

  it('a flush while events keep arriving: display = MySQL + pending, and exact after the next flush', async () => {
    const producing = world.produceMix(3_000);
    const first = await world.flushOnce();
    expect(first.code).toBe(0);
    await producing;
    await world.caughtUp();
    await world.assertExact({ flushed: false });
    expect((await world.flushOnce()).code).toBe(0);
    await world.assertExact({ flushed: true });
  }, 120_000);
});
