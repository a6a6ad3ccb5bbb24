import type { Knex } from 'knex';
import type { PartitionBatch, SinkBinding } from '@tally/kafka';
import { parseSubject, subjectHash } from './subjects';
import { skippingForgotten } from './skip';
import { ForgottenSet } from './tombstones';

/** tally_forgotten as rows of hashes; counts the queries the set sends. */
function fakeDb(hashes: Buffer[], fail = false) {
  const queries: string[] = [];
  const db = {
    raw: async (sql: string) => {
      queries.push(sql);
      if (fail) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:3306'), { code: 'ECONNREFUSED' });
      if (sql.startsWith('SELECT COUNT')) return [[{ n: hashes.length, m: hashes.length }]];
      return [hashes.map((h) => ({ subject_hash: h }))];
    },
  } as unknown as Knex;
  return { db, queries };
}

const batch = (values: { user_id: number | null; ip: string }[]): PartitionBatch<{ user_id: number | null; ip: string }> => ({
  topic: 't',
  partition: 0,
  firstOffset: '0',
  lastOffset: String(values.length - 1),
  messages: values.map((value, i) => ({ offset: String(i), value }) as never),
  heartbeat: async () => undefined,
  reportReprocessed: () => undefined,
});

function recording(handleEmptyChunks = false) {
  const seen: unknown[][] = [];
  const binding: SinkBinding<{ user_id: number | null; ip: string }> = {
    topics: ['t'],
    validate: () => ({ ok: false, reason: 'x', detail: 'x' }),
    handleEmptyChunks,
    handle: async (b) => {
      seen.push(b.messages.map((m) => m.value));
      return { kind: 'done' };
    },
  };
  return { binding, seen };
}

describe('skippingForgotten', () => {
  const user3 = { user_id: 3, ip: '198.51.100.3' };
  const guest = { user_id: null, ip: '203.0.113.50' };
  const other = { user_id: 4, ip: '203.0.113.50' }; // a user behind the forgotten guest's address stays

  it("takes forgotten users' and guests' events out of a chunk, keeps everyone else's", async () => {
    const { db } = fakeDb([subjectHash({ kind: 'user', userId: 3 }), subjectHash({ kind: 'ip', ip: '203.0.113.50' })]);
    const { binding, seen } = recording();
    const skipped: number[] = [];
    const wrapped = skippingForgotten(
      binding,
      new ForgottenSet(db),
      (v) => v,
      (_t, n) => skipped.push(n),
    );
    expect(await wrapped.handle(batch([user3, other, guest]))).toEqual({ kind: 'done' });
    expect(seen).toEqual([[other]]);
    expect(skipped).toEqual([2]);
  });

  it('hands an emptied chunk on only to sinks that record progress from empty chunks', async () => {
    const { db } = fakeDb([subjectHash({ kind: 'user', userId: 3 })]);
    const plain = recording();
    expect(await skippingForgotten(plain.binding, new ForgottenSet(db), (v) => v).handle(batch([user3]))).toEqual({ kind: 'done' });
    expect(plain.seen).toEqual([]);
    const counter = recording(true);
    await skippingForgotten(counter.binding, new ForgottenSet(db), (v) => v).handle(batch([user3]));
    expect(counter.seen).toEqual([[]]);
  });

  it('retries the chunk when the tombstones cannot be read (nothing is applied unchecked)', async () => {
    const { binding, seen } = recording();
    const out = await skippingForgotten(binding, new ForgottenSet(fakeDb([], true).db), (v) => v).handle(batch([user3]));
    expect(out.kind).toBe('retry');
    expect(seen).toEqual([]);
  });

  it('reads the table at most once per refresh interval, and reloads the hashes only when it changed', async () => {
    const hashes = [subjectHash({ kind: 'user', userId: 3 })];
    const { db, queries } = fakeDb(hashes);
    let now = 0;
    const set = new ForgottenSet(db, { refreshMs: 1_000, now: () => now });
    await set.refresh();
    await set.refresh();
    expect(queries.length).toBe(2); // version + load
    now = 1_500;
    await set.refresh();
    expect(queries.length).toBe(3); // version only: unchanged
    hashes.push(subjectHash({ kind: 'ip', ip: '203.0.113.50' }));
    now = 3_000;
    await set.refresh();
    expect(queries.length).toBe(5);
    expect(set.has(guest)).toBe(true);
  });
});

describe('parseSubject', () => {
  it('takes exactly one valid user id or ip, naming the field otherwise', () => {
    expect(parseSubject({ user: '42' })).toEqual({ kind: 'user', userId: 42 });
    expect(parseSubject({ ip: '2001:db8::1' })).toEqual({ kind: 'ip', ip: '2001:db8::1' });
    expect(() => parseSubject({})).toThrow('give exactly one of a user id or an ip address');
    expect(() => parseSubject({ user: '0' })).toThrow('user must be a positive integer (users.id)');
    expect(() => parseSubject({ ip: 'localhost' })).toThrow('ip must be an IPv4 or IPv6 address');
  });

  it('hashes an IPv6 address the same whatever the case of its hex digits', () => {
    expect(subjectHash({ kind: 'ip', ip: '2001:DB8::1' })).toEqual(subjectHash({ kind: 'ip', ip: '2001:db8::1' }));
  });
});
