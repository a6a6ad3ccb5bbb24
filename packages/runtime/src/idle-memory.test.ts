import { releaseMemoryWhenIdle, YOUNG_AFTER_MS } from './idle-memory';

describe('releaseMemoryWhenIdle', () => {
  let clock = 0;
  let steps: string[] = [];
  beforeEach(() => {
    jest.useFakeTimers();
    clock = 0;
    steps = [];
  });
  afterEach(() => jest.useRealTimers());
  const start = (afterMs: number) => releaseMemoryWhenIdle({ afterMs, checkMs: 100, now: () => clock, gc: (step) => steps.push(step) });
  const pass = (ms: number) => {
    for (let t = 0; t < ms; t += 100) {
      clock += 100;
      jest.advanceTimersByTime(100);
    }
  };

  it('collects once the process has been idle for the period, the young generation later, and not again while it stays idle', () => {
    const idle = start(1_000);
    pass(900);
    expect(steps).toEqual([]);
    pass(200);
    expect(idle.collections).toBe(1);
    expect(steps).toEqual(['full']);
    pass(YOUNG_AFTER_MS - 200);
    expect(steps).toEqual(['full']); // V8's allocation-rate window still holds the last work
    pass(300);
    expect(steps).toEqual(['full', 'young']);
    pass(20_000);
    expect(steps).toEqual(['full', 'young']);
    expect(idle.collections).toBe(1);
    idle.stop();
  });

  it('skips the young step when work comes back before it, and starts over after that work', () => {
    const idle = start(1_000);
    pass(1_100);
    expect(steps).toEqual(['full']);
    pass(2_000);
    idle.begin()();
    pass(900);
    expect(steps).toEqual(['full']); // a new idle period: the period again, then the full step first
    pass(200);
    expect(steps).toEqual(['full', 'full']);
    pass(YOUNG_AFTER_MS - 200);
    expect(steps).toEqual(['full', 'full']);
    pass(300);
    expect(steps).toEqual(['full', 'full', 'young']);
    expect(idle.collections).toBe(2);
    idle.stop();
  });

  it('never collects while work keeps coming, and collects again after the next idle period', () => {
    const idle = start(1_000);
    for (let i = 0; i < 30; i++) {
      pass(500);
      idle.begin()();
    }
    expect(idle.collections).toBe(0);
    pass(1_100);
    expect(idle.collections).toBe(1);
    idle.begin()();
    pass(1_100);
    expect(idle.collections).toBe(2);
    idle.stop();
  });

  it('waits for work in progress, however long, and counts the idle period from its end', () => {
    const idle = start(1_000);
    const endA = idle.begin();
    const endB = idle.begin();
    pass(5_000);
    expect(idle.collections).toBe(0);
    endA();
    endA(); // a second call changes nothing
    pass(5_000);
    expect(idle.collections).toBe(0); // B still runs
    endB();
    pass(900);
    expect(idle.collections).toBe(0);
    pass(200);
    expect(idle.collections).toBe(1);
    idle.stop();
  });

  it('is off with 0, and stops checking once stopped', () => {
    const off = start(0);
    pass(10_000);
    expect(off.collections).toBe(0);
    const idle = start(1_000);
    idle.stop();
    pass(10_000);
    expect(idle.collections).toBe(0);
    expect(steps).toEqual([]);
  });

  it("uses V8's own collector when none is given (a real full collection runs)", async () => {
    jest.useRealTimers();
    // A WeakRef's target survives scavenges and lives on until a full collection: only that clears it.
    const ref = ((): WeakRef<object> => new WeakRef({ big: new Array(10_000).fill(1) }))();
    await new Promise((r) => setTimeout(r, 10)); // a WeakRef holds its target until the current job ends
    expect(ref.deref()).toBeDefined();
    const idle = releaseMemoryWhenIdle({ afterMs: 1, checkMs: 1 });
    while (idle.collections === 0) await new Promise((r) => setTimeout(r, 5));
    idle.stop();
    expect(ref.deref()).toBeUndefined();
  });
});
