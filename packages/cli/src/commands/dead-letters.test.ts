import { DLQ_HEADERS } from '@tally/kafka';
import { matches, requeueHeaders, toEntry } from './dead-letters';

const headers = {
  [DLQ_HEADERS.reason]: Buffer.from('unknown_schema'),
  [DLQ_HEADERS.detail]: Buffer.from('schema id 99 is unknown to the registry'),
  [DLQ_HEADERS.step]: Buffer.from('decode'),
  [DLQ_HEADERS.service]: Buffer.from('event-logger'),
  [DLQ_HEADERS.topic]: Buffer.from('tally.movie.viewed'),
  [DLQ_HEADERS.partition]: Buffer.from('3'),
  [DLQ_HEADERS.offset]: Buffer.from('41'),
  [DLQ_HEADERS.time]: Buffer.from('2026-11-26T10:00:00.000Z'),
  traceparent: Buffer.from('00-abc-def-01'),
};

describe('dead letter entries', () => {
  const e = toEntry(2, { offset: '7', key: Buffer.from('123'), value: Buffer.from([0, 0, 0, 0, 99]), timestamp: '0', headers });

  it('reads where the message came from and why it was refused', () => {
    expect(e).toMatchObject({
      id: '2:7',
      reason: 'unknown_schema',
      step: 'decode',
      service: 'event-logger',
      source: { topic: 'tally.movie.viewed', partition: 3, offset: '41' },
      failedAt: '2026-11-26T10:00:00.000Z',
    });
  });

  it("a requeue keeps the original headers, drops Tally's and says where it came from", () => {
    expect(requeueHeaders(e, 'tally.dead-letter')).toEqual({
      traceparent: '00-abc-def-01',
      'tally-requeued-from': 'tally.dead-letter:2:7',
    });
  });

  it('filters by reason, time and id', () => {
    expect(matches(e, { reason: 'unknown_schema' })).toBe(true);
    expect(matches(e, { reason: 'invalid_payload' })).toBe(false);
    expect(matches(e, { since: new Date('2026-11-26T09:00:00Z') })).toBe(true);
    expect(matches(e, { since: new Date('2026-11-26T11:00:00Z') })).toBe(false);
    expect(matches(e, { ids: ['2:7'] })).toBe(true);
    expect(matches(e, { ids: ['2:8'] })).toBe(false);
  });

  it('a record without Tally headers still lists, as reason unknown with its Kafka time', () => {
    const bare = toEntry(0, { offset: '0', key: null, value: null, timestamp: String(Date.UTC(2026, 0, 1)) });
    expect(bare).toMatchObject({
      reason: 'unknown',
      source: { topic: '', partition: null, offset: null },
      failedAt: '2026-01-01T00:00:00.000Z',
    });
  });
});
