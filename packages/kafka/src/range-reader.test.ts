import type { KafkaMessage } from 'kafkajs';
import { RangeReader, type RangeBatch, type RangeReaderOptions } from './range-reader';
import { FakeKafka, fakeMessage } from './testing/fake-kafka';

// The range reader's positions, end detection, re-seeks and rewinds, driven through the fake consumer.

const msgs = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => fakeMessage(from + i, { n: from + i }));

function reader(o: Partial<RangeReaderOptions> & Pick<RangeReaderOptions, 'ranges'>) {
  const kafka = new FakeKafka();
  const seen: string[] = [];
  const r = new RangeReader({
    kafka: kafka.asKafka(),
    groupId: 'throwaway',
    onBatch: (b: RangeBatch) => {
      seen.push(`${b.topic}:${b.partition} ${b.messages.map((m: KafkaMessage) => m.offset).join(',')}`);
      return Promise.resolve();
    },
    ...o,
  });
  return { kafka, seen, r };
}

describe('RangeReader (fake kafkajs consumer)', () => {
  it('reads each range from its start to its end, only in-range messages, then resolves', async () => {
    const { kafka, seen, r } = reader({
      ranges: [
        { topic: 't', partition: 0, start: 2n, end: 5n },
        { topic: 't', partition: 1, start: 0n, end: 1n },
        { topic: 'u', partition: 0, start: 3n, end: 3n }, // empty: nothing to wait for
      ],
    });
    const done = r.run();
    const c = await kafka.running();
    expect(c.subscribed).toEqual({ topic: 't', fromBeginning: true });
    expect(kafka.log).toEqual(['seek t:0@2', 'seek t:1@0']);
    await c.deliver('t', 0, msgs(0, 3)); // fetched from before the start: 0 and 1 are not ours
    await c.deliver('t', 1, msgs(0, 0));
    await c.deliver('t', 0, msgs(4, 9)); // past the end: not ours
    await done;
    expect(seen).toEqual(['t:0 2,3', 't:1 0', 't:0 4']);
    expect(kafka.log.slice(2)).toEqual(['pause t:1', 'pause t:0']);
    expect(r.messagesRead).toBe(4);
    await c.deliver('t', 0, msgs(10, 10)); // a finished range ignores late batches
    expect(seen).toHaveLength(3);
  });

  it('has nothing to do for empty ranges (no consumer at all)', async () => {
    const { kafka, r } = reader({ ranges: [{ topic: 't', partition: 0, start: 4n, end: 4n }] });
    await r.run();
    expect(kafka.consumers).toEqual([]);
  });

  it('seeks every open range back to its position on each group join, and skips what it read already', async () => {
    const { kafka, seen, r } = reader({
      ranges: [
        { topic: 't', partition: 0, start: 0n, end: 10n },
        { topic: 't', partition: 1, start: 0n, end: 1n },
      ],
    });
    const done = r.run();
    const c = await kafka.running();
    await c.deliver('t', 0, msgs(0, 3));
    await c.deliver('t', 1, msgs(0, 0));
    c.join({ t: [0, 1] });
    expect(kafka.log.slice(-1)).toEqual(['seek t:0@4']); // partition 1 is finished: not re-read
    await c.deliver('t', 0, msgs(2, 9)); // the old fetch position: 2 and 3 were read already
    await done;
    expect(seen).toEqual(['t:0 0,1,2,3', 't:1 0', 't:0 4,5,6,7,8,9']);
  });

  it('reads a partition again from where a rewind says', async () => {
    let rewound = false;
    const seen: string[] = [];
    const { kafka, r } = reader({
      ranges: [{ topic: 't', partition: 0, start: 5n, end: 8n }],
      onBatch: (b) => {
        seen.push(b.messages.map((m) => m.offset).join(','));
        if (rewound) return Promise.resolve();
        rewound = true;
        return Promise.resolve({ rewind: '2' });
      },
    });
    const done = r.run();
    const c = await kafka.running();
    await c.deliver('t', 0, msgs(5, 7));
    expect(kafka.log.at(-1)).toBe('seek t:0@2');
    await c.deliver('t', 0, msgs(2, 7));
    await done;
    expect(seen).toEqual(['5,6,7', '2,3,4,5,6,7']);
  });

  it('ends the read with the error onBatch threw, and with a consumer crash', async () => {
    const boom = new Error('mysql down');
    const failing = reader({ ranges: [{ topic: 't', partition: 0, start: 0n, end: 5n }], onBatch: () => Promise.reject(boom) });
    const done = failing.r.run();
    const c = await failing.kafka.running();
    await expect(c.deliver('t', 0, msgs(0, 1))).rejects.toBe(boom);
    await expect(done).rejects.toBe(boom);

    let tries = 0;
    const redelivered = reader({
      ranges: [{ topic: 't', partition: 0, start: 0n, end: 1n }],
      onError: 'redeliver',
      onBatch: () => (++tries < 2 ? Promise.reject(boom) : Promise.resolve()),
    });
    const again = redelivered.r.run();
    const rc = await redelivered.kafka.running();
    await expect(rc.deliver('t', 0, msgs(0, 0))).rejects.toBe(boom); // kafkajs' to retry
    await rc.deliver('t', 0, msgs(0, 0));
    await again;
    expect(tries).toBe(2);

    const crashing = reader({ ranges: [{ topic: 't', partition: 0, start: 0n, end: 5n }] });
    const read = crashing.r.run();
    const gone = new Error('gave up');
    (await crashing.kafka.running()).crash(gone);
    await expect(read).rejects.toBe(gone);
  });

  it('reports where it waits when no message arrived for a stall period', async () => {
    const stalls: string[][] = [];
    const { kafka, r } = reader({
      ranges: [{ topic: 't', partition: 0, start: 0n, end: 3n }],
      stallReportMs: 10,
      onStall: (open) => stalls.push(open.map((p) => `${p.topic}:${p.partition} at ${p.next} of ${p.end}`)),
    });
    const done = r.run();
    const c = await kafka.running();
    await c.deliver('t', 0, msgs(0, 0));
    while (stalls.length === 0) await new Promise((res) => setTimeout(res, 5));
    expect(stalls[0]).toEqual(['t:0 at 1 of 3']);
    await c.deliver('t', 0, msgs(1, 2));
    await done;
    const after = stalls.length;
    await new Promise((res) => setTimeout(res, 40));
    expect(stalls).toHaveLength(after); // a finished read reports nothing more
  });
});
