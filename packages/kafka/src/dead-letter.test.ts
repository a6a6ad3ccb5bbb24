import { backoffMs } from './backoff';
import { DLQ_HEADERS, deadLetterRecord } from './dead-letter';

describe('deadLetterRecord', () => {
  const msg = {
    topic: 'tally.movie.viewed',
    partition: 3,
    offset: '42',
    key: Buffer.from('123'),
    value: Buffer.from([0, 0, 0, 0, 9, 1, 2]),
    headers: { traceparent: Buffer.from('00-abc'), [DLQ_HEADERS.reason]: Buffer.from('spoofed') },
  };
  const at = new Date('2026-11-26T12:00:00.000Z');

  it('keeps the original key and value byte for byte and names where it came from', () => {
    const r = deadLetterRecord(
      'tally.dead-letter',
      'counter',
      msg,
      { reason: 'unknown_schema', detail: 'schema id 9 is unknown', step: 'decode' },
      at,
    );
    expect(r.topic).toBe('tally.dead-letter');
    expect(r.key).toBe('123');
    expect(r.value.equals(msg.value)).toBe(true);
    expect(r.headers).toEqual({
      traceparent: '00-abc',
      [DLQ_HEADERS.reason]: 'unknown_schema', // ours win over a header of the same name on the input
      [DLQ_HEADERS.detail]: 'schema id 9 is unknown',
      [DLQ_HEADERS.step]: 'decode',
      [DLQ_HEADERS.service]: 'counter',
      [DLQ_HEADERS.topic]: 'tally.movie.viewed',
      [DLQ_HEADERS.partition]: '3',
      [DLQ_HEADERS.offset]: '42',
      [DLQ_HEADERS.time]: '2026-11-26T12:00:00.000Z',
    });
  });

  it('keeps a null value as an empty body and caps a huge detail', () => {
    const r = deadLetterRecord(
      'dlq',
      's',
      { ...msg, key: null, value: null },
      { reason: 'undecodable', detail: 'x'.repeat(10_000), step: 'decode' },
      at,
    );
    expect(r.key).toBeNull();
    expect(r.value.length).toBe(0);
    expect(r.headers![DLQ_HEADERS.detail]!.length).toBe(2_000);
  });
});

describe('backoffMs', () => {
  it('grows exponentially, is capped, and never goes below half the initial wait', () => {
    expect(backoffMs(0, 100, 10_000, () => 1)).toBe(100);
    expect(backoffMs(3, 100, 10_000, () => 1)).toBe(800);
    expect(backoffMs(30, 100, 10_000, () => 1)).toBe(10_000);
    expect(backoffMs(30, 100, 10_000, () => 0)).toBe(50);
  });
});
