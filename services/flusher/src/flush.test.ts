import { createLogger, ServiceMetrics } from '@tally/runtime';
import type { Failpoint } from './config';
import { Flusher, type FlushStore } from './flush';
import type { CounterField } from './handler';
import type { ApplyReport } from './sink';

const logger = createLogger({ service: 'flusher-test', level: 'silent' });

/** An in-memory store that records the order of calls. */
function fakeStore(
  opts: { leftovers?: string[]; ledger?: string[]; pending?: boolean; applied?: Partial<ApplyReport>; realign?: CounterField[] } = {},
) {
  const calls: string[] = [];
  const ledger = new Set(opts.ledger ?? []);
  const store: FlushStore = {
    leftovers: async () => opts.leftovers ?? [],
    take: async (id) => {
      calls.push('take');
      ledger.delete(id);
      return opts.pending ?? true;
    },
    read: async (id) => (id === 'gone' ? undefined : ['views:1', '2', 'likes:9', '1', 'off:t:0', '5']),
    isApplied: async (id) => ledger.has(id),
    apply: async (id) => {
      calls.push(`apply:${id.length > 10 ? 'new' : id}`);
      return { alreadyApplied: false, javRows: 1, unknownIds: [9], ...opts.applied };
    },
    cleanup: async (id) => {
      calls.push(`cleanup:${id.length > 10 ? 'new' : id}`);
    },
    takeRealignSet: async () => {
      calls.push('takeRealignSet');
      return opts.realign ?? [];
    },
    realign: async (fields) => {
      calls.push(`realign:${fields.map((f) => `${f.metric}:${f.id}`).join(',')}`);
      return fields.length;
    },
    dropRealignSet: async () => {
      calls.push('dropRealignSet');
    },
  };
  return { store, calls };
}

describe('Flusher', () => {
  it('finishes leftovers before taking new deltas: applies the unledgered one, only cleans the ledgered one', async () => {
    const { store, calls } = fakeStore({ leftovers: ['a', 'b', 'gone'], ledger: ['a'] });
    const out = await new Flusher(store, new ServiceMetrics('f1', { defaultMetrics: false })).run({ logger });
    expect(calls).toEqual(['cleanup:a', 'apply:b', 'cleanup:b', 'cleanup:gone', 'take', 'apply:new', 'cleanup:new', 'takeRealignSet']);
    expect(out.items).toBe(4);
    expect(out.summary).toMatchObject({ taken: true, leftovers: 3, javRows: 2, unknownFields: 2, realigned: 0 });
  });

  it('re-aligns the noted re-seeds last, after every clean-up, and only those keys', async () => {
    const realign: CounterField[] = [
      { metric: 'views', id: 4 },
      { metric: 'likes', id: 7 },
    ];
    const { store, calls } = fakeStore({ leftovers: ['a'], ledger: ['a'], realign });
    const out = await new Flusher(store, new ServiceMetrics('f6', { defaultMetrics: false })).run({ logger });
    expect(calls).toEqual(['cleanup:a', 'take', 'apply:new', 'cleanup:new', 'takeRealignSet', 'realign:views:4,likes:7', 'dropRealignSet']);
    expect(out.summary).toMatchObject({ realigned: 2 });
  });

  it('re-aligns noted re-seeds even when nothing is pending', async () => {
    const { store, calls } = fakeStore({ pending: false, realign: [{ metric: 'downloads', id: 3 }] });
    await new Flusher(store, new ServiceMetrics('f7', { defaultMetrics: false })).run({ logger });
    expect(calls).toEqual(['take', 'takeRealignSet', 'realign:downloads:3', 'dropRealignSet']);
  });

  it('reports fields of movies MySQL does not have in a metric', async () => {
    const metrics = new ServiceMetrics('f2', { defaultMetrics: false });
    await new Flusher(fakeStore().store, metrics).run({ logger });
    expect(await metrics.registry.metrics()).toMatch(/tally_unknown_movie_fields_total\{service="f2"\} 1/);
  });

  it('does nothing when nothing is pending', async () => {
    const { store, calls } = fakeStore({ pending: false });
    expect(await new Flusher(store, new ServiceMetrics('f3', { defaultMetrics: false })).run({ logger })).toMatchObject({ items: 0 });
    expect(calls).toEqual(['take', 'takeRealignSet']);
  });

  it('a flush another run applied meanwhile is not counted again, only cleaned', async () => {
    const { store, calls } = fakeStore({ applied: { alreadyApplied: true } });
    const out = await new Flusher(store, new ServiceMetrics('f4', { defaultMetrics: false })).run({ logger });
    expect(out.items).toBe(0);
    expect(calls).toEqual(['take', 'apply:new', 'cleanup:new', 'takeRealignSet']);
  });

  it('hits each failpoint between the steps it names', async () => {
    const { store, calls } = fakeStore({ realign: [{ metric: 'views', id: 1 }] });
    const at = (p: Failpoint) => calls.push(`!${p}`);
    await new Flusher(store, new ServiceMetrics('f5', { defaultMetrics: false }), at).run({ logger });
    expect(calls).toEqual([
      'take',
      '!after_take',
      'apply:new',
      '!after_commit',
      '!before_cleanup',
      'cleanup:new',
      'takeRealignSet',
      '!before_realign',
      'realign:views:1',
      'dropRealignSet',
    ]);
  });
});
