import {
  advanceWatermark,
  classifyItem,
  countsUpdate,
  describeFailures,
  isoDate,
  movieDocument,
  reasonLabel,
  WATERMARK_START,
  type CountsRow,
} from './handler';
import { aliasName, MAPPINGS, versionedIndexName } from './indices';
import { loadEsSyncConfig } from './config';

const t = (ms: number) => new Date(Date.UTC(2025, 0, 1) + ms);
const row = (id: number, ms: number): CountsRow => ({ id, views: 10, downloads: 2, likes: 1, counts_updated_at: t(ms) });

describe('classifyItem', () => {
  it('a 2xx without error is done', () => {
    expect(classifyItem({ status: 200 })).toEqual({ kind: 'ok' });
  });
  it('a missing document is "missing", whatever its status', () => {
    expect(classifyItem({ status: 404, error: { type: 'document_missing_exception', reason: '[31]: document missing' } })).toEqual({
      kind: 'missing',
    });
  });
  it('429, 409 and 5xx are retried in the run', () => {
    for (const status of [429, 409, 503]) expect(classifyItem({ status, error: { type: 'x', reason: 'y' } }).kind).toBe('retry');
  });
  it('other 4xx fail at once with type and reason', () => {
    expect(classifyItem({ status: 400, error: { type: 'strict_dynamic_mapping_exception', reason: 'no [legacy_rank]' } })).toEqual({
      kind: 'failed',
      reason: 'strict_dynamic_mapping_exception: no [legacy_rank]',
    });
    expect(reasonLabel('strict_dynamic_mapping_exception: no [legacy_rank]')).toBe('strict_dynamic_mapping_exception');
  });
});

describe('advanceWatermark', () => {
  const page = [row(5, 0), row(9, 0), row(2, 1), row(3, 1)];
  it('moves to the last row when nothing failed', () => {
    expect(advanceWatermark(WATERMARK_START, page, new Set())).toEqual({ watermark: { at: t(1), id: 3 }, blocked: false });
  });
  it('stops at the row before the first failure and reports the block', () => {
    expect(advanceWatermark(WATERMARK_START, page, new Set([2, 3]))).toEqual({ watermark: { at: t(0), id: 9 }, blocked: true });
  });
  it('does not move when the first row failed', () => {
    const current = { at: t(-5), id: 1 };
    expect(advanceWatermark(current, page, new Set([5]))).toEqual({ watermark: current, blocked: true });
  });
  it('never moves backwards', () => {
    const ahead = { at: t(10), id: 0 };
    expect(advanceWatermark(ahead, page, new Set()).watermark).toEqual(ahead);
  });
});

describe('documents', () => {
  it('a counts update is partial and carries no upsert', () => {
    // Beyond 2^53 mysql2 hands over a string: sent as is, not rounded to ...992.
    const op = countsUpdate({ ...row(7, 0), views: '9007199254740993' });
    expect(op).toEqual({ id: 7, action: 'update', doc: { views: '9007199254740993', downloads: 2, likes: 1, counts_updated_at: t(0) } });
    expect(Object.keys(op.doc).every((k) => k in MAPPINGS.jav.properties!)).toBe(true);
  });
  it('a movie document has exactly the mapped fields, dates as yyyy-MM-dd', () => {
    const op = movieDocument(
      { ...row(7, 0), code: 'ABP-001', title: 'T', provider: 'P', release_date: new Date('2024-03-09T00:00:00Z') },
      ['A'],
      ['Drama'],
    );
    expect(op.doc.release_date).toBe('2024-03-09');
    expect(Object.keys(op.doc).sort()).toEqual(Object.keys(MAPPINGS.jav.properties!).sort());
    expect(isoDate('2024-03-09')).toBe('2024-03-09');
    expect(isoDate(null)).toBeNull();
  });
  it('lists a few failures and says how many', () => {
    const failed = new Map(Array.from({ length: 7 }, (_, i) => [i, 'cluster_block_exception: blocked'] as [number, string]));
    expect(describeFailures(failed)).toMatch(/^7 document\(s\) failed: 0 \(cluster_block_exception: blocked\);.*; …$/);
  });
});

describe('index names and config', () => {
  it('prefixes aliases and versions indices by build time', () => {
    expect(aliasName('t1_', 'tags')).toBe('t1_tags');
    expect(versionedIndexName('', 'jav', new Date('2026-11-26T15:30:00.123Z'))).toBe('jav_v20261126t153000123z');
  });
  it('defaults: port 9105, hourly, no prefix; refuses an upper-case prefix by name', () => {
    expect(loadEsSyncConfig({})).toMatchObject({
      MANAGEMENT_PORT: 9105,
      SCHEDULE: '0 * * * *',
      ES_INDEX_PREFIX: '',
      BULK_SIZE: 1000,
      SETTLE_LAG: 60_000,
    });
    expect(() => loadEsSyncConfig({ ES_INDEX_PREFIX: 'Test_' })).toThrow(/ES_INDEX_PREFIX/);
  });
});
