import { deadLetterRecord } from '@tally/kafka';
import { topicNames } from '@tally/events';
import { deadLetterRow, headerStrings, startOffset } from './handler';

const names = topicNames('x.');

describe('deadLetterRow', () => {
  it('reads the tally-dlq-* headers the consumer runner writes', () => {
    const rec = deadLetterRecord(
      'x.dead-letter',
      'history',
      { topic: 'x.movie.viewed', partition: 3, offset: '41', key: Buffer.from('k'), value: Buffer.from([1, 2]) },
      { reason: 'jav_id', detail: 'jav_id must be positive', step: 'validate' },
      new Date('2024-05-01T00:00:00.000Z'),
    );
    const row = deadLetterRow(
      'x.dead-letter',
      1,
      { offset: '7', timestamp: '0', key: Buffer.from('k'), value: rec.value as Buffer, headers: rec.headers },
      names,
    );
    expect(row).toMatchObject({
      topic: 'x.dead-letter',
      partition: 1,
      offset: 7,
      reason: 'jav_id',
      detail: 'jav_id must be positive',
      step: 'validate',
      service: 'history',
      original_topic: 'x.movie.viewed',
      original_partition: 3,
      original_offset: 41,
      event_type: 'movie.viewed',
      failed_at: new Date('2024-05-01T00:00:00.000Z'),
    });
    expect(row.payload).toEqual(Buffer.from([1, 2]));
    expect(JSON.parse(row.headers)['tally-dlq-reason']).toBe('jav_id');
  });
  it('keeps a record without Tally headers as reason "unknown", failed at the record time', () => {
    const row = deadLetterRow('x.dead-letter', 0, { offset: '0', timestamp: '1700000000000', key: null, value: null, headers: {} }, names);
    expect(row).toMatchObject({ reason: 'unknown', original_topic: null, event_type: null, failed_at: new Date(1_700_000_000_000) });
  });
  it('headerStrings takes the last value of a repeated header', () => {
    expect(headerStrings({ a: [Buffer.from('1'), Buffer.from('2')], b: 'x' })).toEqual({ a: '2', b: 'x' });
  });
});

describe('startOffset', () => {
  it('resumes at the stored position, never before the oldest record kept', () => {
    expect(startOffset(undefined, 0)).toBe(0);
    expect(startOffset(12, 3)).toBe(12);
    expect(startOffset(2, 9)).toBe(9);
  });
});
