import { randomUUID } from 'node:crypto';
import { foldHistory, mergeDeltas, type HistoryDelta, type HistoryEvent } from './handler';

const T0 = Date.UTC(2026, 0, 1);

function ev(over: Partial<HistoryEvent> = {}): HistoryEvent {
  return {
    event_id: randomUUID(),
    occurred_at: T0,
    received_at: T0 + 50,
    user_id: 1,
    jav_id: 10,
    ip: '10.0.0.1',
    user_agent: 'UA',
    ...over,
  };
}

/** Deterministic PRNG (mulberry32) so a failing shuffle can be replayed. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffle<T>(xs: readonly T[], rand: () => number): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

function randomEvents(n: number, rand: () => number, distinctTimes: boolean): HistoryEvent[] {
  return Array.from({ length: n }, (_, i) => {
    const occurred = distinctTimes ? T0 + i * 7 : T0 + Math.floor(rand() * 20) * 1000; // many ties when not distinct
    return ev({
      user_id: rand() < 0.15 ? null : 1 + Math.floor(rand() * 4),
      jav_id: 1 + Math.floor(rand() * 5),
      occurred_at: occurred,
      received_at: occurred + Math.floor(rand() * 3),
      ip: `10.0.${Math.floor(rand() * 255)}.${i % 255}`,
      user_agent: rand() < 0.1 ? null : `UA-${i}`,
    });
  });
}

/** Applies chunks one after another the way the upsert does (mergeDeltas per row). */
function applyChunks(chunks: HistoryDelta[][]): HistoryDelta[] {
  const rows = new Map<string, HistoryDelta>();
  for (const chunk of chunks) {
    for (const d of chunk) {
      const key = `${d.userId}:${d.javId}`;
      const old = rows.get(key);
      rows.set(key, old ? mergeDeltas(old, d) : d);
    }
  }
  return [...rows.values()].sort((a, b) => a.userId - b.userId || a.javId - b.javId);
}

describe('foldHistory', () => {
  it('sums views, keeps first/last view time and the ip/user agent of the latest view', () => {
    const { deltas } = foldHistory('view', [
      ev({ occurred_at: T0 + 2_000, ip: '10.0.0.2', user_agent: 'middle' }),
      ev({ occurred_at: T0 + 5_000, ip: '10.0.0.3', user_agent: 'latest' }),
      ev({ occurred_at: T0 + 1_000, ip: '10.0.0.1', user_agent: 'first' }),
    ]);
    expect(deltas).toEqual([
      {
        userId: 1,
        javId: 10,
        viewCount: 3,
        firstViewedAt: T0 + 1_000,
        lastViewedAt: T0 + 5_000,
        ip: '10.0.0.3',
        userAgent: 'latest',
        downloadCount: 0,
        lastDownloadedAt: null,
      },
    ]);
  });

  it('latest ip wins by occurred_at, then received_at, then event_id — whatever the input order', () => {
    const a = ev({ occurred_at: T0, received_at: T0 + 10, ip: '10.0.0.1', event_id: '00000000-0000-4000-8000-00000000000a' });
    const b = ev({ occurred_at: T0, received_at: T0 + 20, ip: '10.0.0.2', event_id: '00000000-0000-4000-8000-00000000000b' });
    const c = ev({ occurred_at: T0, received_at: T0 + 20, ip: '10.0.0.3', event_id: '00000000-0000-4000-8000-00000000000c' });
    for (const order of [
      [a, b, c],
      [c, b, a],
      [b, c, a],
      [c, a, b],
    ]) {
      expect(foldHistory('view', order).deltas[0]!.ip).toBe('10.0.0.3');
    }
    expect(foldHistory('view', [b, a]).deltas[0]!.ip).toBe('10.0.0.2'); // same occurred_at: later received_at wins
  });

  it('downloads set the download fields and leave the view fields alone', () => {
    const { deltas } = foldHistory('download', [ev({ occurred_at: T0 + 9 }), ev({ occurred_at: T0 + 3 })]);
    expect(deltas).toEqual([
      {
        userId: 1,
        javId: 10,
        viewCount: 0,
        firstViewedAt: null,
        lastViewedAt: null,
        ip: null,
        userAgent: null,
        downloadCount: 2,
        lastDownloadedAt: T0 + 9,
      },
    ]);
  });

  it('skips guests but counts them, and keeps users and movies apart', () => {
    const fold = foldHistory('view', [
      ev({ user_id: null }),
      ev({ user_id: 2, jav_id: 7 }),
      ev({ user_id: 1, jav_id: 7 }),
      ev({ user_id: null, jav_id: 7 }),
      ev({ user_id: 2, jav_id: 7 }),
    ]);
    expect(fold.guests).toBe(2);
    expect(fold.deltas.map((d) => [d.userId, d.javId, d.viewCount])).toEqual([
      [1, 7, 1],
      [2, 7, 2],
    ]);
    expect(fold.appliedIds).toHaveLength(3);
  });

  it('counts an event_id once inside a chunk, whatever its letter case', () => {
    const e = ev();
    const fold = foldHistory('view', [e, { ...e, event_id: e.event_id.toUpperCase() }, e]);
    expect(fold.duplicates).toBe(2);
    expect(fold.deltas[0]!.viewCount).toBe(1);
    expect(fold.appliedIds).toEqual([e.event_id.toLowerCase()]);
  });

  it('is order-independent: shuffled inputs give the same deltas (ties in occurred_at included)', () => {
    for (let seed = 1; seed <= 25; seed++) {
      const rand = rng(seed);
      const events = randomEvents(300, rand, false);
      const expected = foldHistory('view', events);
      for (let k = 0; k < 4; k++)
        expect(foldHistory('view', shuffle(events, rand))).toEqual({ ...expected, appliedIds: expect.any(Array) });
    }
  });

  it('chunking and apply order do not matter: any split, applied in any order, equals one fold (distinct times)', () => {
    for (let seed = 100; seed < 125; seed++) {
      const rand = rng(seed);
      const events = randomEvents(400, rand, true);
      const whole = foldHistory('view', events).deltas;
      const shuffled = shuffle(events, rand);
      const cuts = [0, ...[1, 2, 3].map(() => Math.floor(rand() * shuffled.length)).sort((a, b) => a - b), shuffled.length];
      const chunks = cuts.slice(1).map((end, i) => foldHistory('view', shuffled.slice(cuts[i], end)).deltas);
      expect(applyChunks(shuffle(chunks, rand))).toEqual(whole);
    }
  });

  it('views and downloads of the same pair merge in either order', () => {
    const views = foldHistory('view', [ev({ occurred_at: T0 + 5, ip: '10.0.0.5' }), ev({ occurred_at: T0 + 1 })]).deltas;
    const downloads = foldHistory('download', [ev({ occurred_at: T0 + 3 })]).deltas;
    const expected = {
      userId: 1,
      javId: 10,
      viewCount: 2,
      firstViewedAt: T0 + 1,
      lastViewedAt: T0 + 5,
      ip: '10.0.0.5',
      userAgent: 'UA',
      downloadCount: 1,
      lastDownloadedAt: T0 + 3,
    };
    expect(applyChunks([views, downloads])).toEqual([expected]);
    expect(applyChunks([downloads, views])).toEqual([expected]);
  });
});
