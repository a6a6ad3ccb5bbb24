import { z } from 'zod';
import { applyRenamed, esIndexPrefix, loadConfig, parseDuration, partitionConcurrency, RENAMED_SETTINGS, tryParseDuration } from './index';

const schema = z.object({ NEW_NAME: z.coerce.number().default(1) });
const renamed = { OLD_NAME: 'NEW_NAME' };

describe('renamed settings', () => {
  it('uses the old name when the new one is unset, with one warning naming both', () => {
    const warnings: string[] = [];
    const c = loadConfig(schema, { OLD_NAME: '7' }, { renamed, warn: (w) => warnings.push(w) });
    expect(c.NEW_NAME).toBe(7);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/OLD_NAME is deprecated: set NEW_NAME instead/);
  });

  it('lets the new name win when both are set, and says the old one is ignored', () => {
    const warnings: string[] = [];
    const c = loadConfig(schema, { OLD_NAME: '7', NEW_NAME: '3' }, { renamed, warn: (w) => warnings.push(w) });
    expect(c.NEW_NAME).toBe(3);
    expect(warnings).toEqual([expect.stringMatching(/OLD_NAME is deprecated and ignored: NEW_NAME is also set/)]);
  });

  it('says nothing when only the new name (or neither) is set, and treats an empty old value as unset', () => {
    const warnings: string[] = [];
    loadConfig(schema, { NEW_NAME: '3' }, { renamed, warn: (w) => warnings.push(w) });
    expect(loadConfig(schema, { OLD_NAME: '' }, { renamed, warn: (w) => warnings.push(w) }).NEW_NAME).toBe(1);
    expect(warnings).toEqual([]);
  });

  it('maps PARTITIONS_CONCURRENTLY to PARTITION_CONCURRENCY by default', () => {
    expect(RENAMED_SETTINGS.PARTITIONS_CONCURRENTLY).toBe('PARTITION_CONCURRENCY');
    const s = z.object({ PARTITION_CONCURRENCY: partitionConcurrency(4) });
    expect(loadConfig(s, { PARTITIONS_CONCURRENTLY: '2' }, { warn: () => undefined }).PARTITION_CONCURRENCY).toBe(2);
    expect(applyRenamed({ PARTITIONS_CONCURRENTLY: '2' }).env).toEqual({ PARTITION_CONCURRENCY: '2' });
  });

  it('checks the old value by the new rule, naming the new variable', () => {
    const s = z.object({ PARTITION_CONCURRENCY: partitionConcurrency(4) });
    expect(() => loadConfig(s, { PARTITIONS_CONCURRENTLY: '0' }, { warn: () => undefined })).toThrow(/PARTITION_CONCURRENCY/);
  });
});

describe('ES_INDEX_PREFIX', () => {
  it('accepts lower-case letters, digits, "_" and "-" only', () => {
    const s = z.object({ ES_INDEX_PREFIX: esIndexPrefix() });
    expect(loadConfig(s, {}).ES_INDEX_PREFIX).toBe('');
    expect(loadConfig(s, { ES_INDEX_PREFIX: 'ci-1_' }).ES_INDEX_PREFIX).toBe('ci-1_');
    expect(() => loadConfig(s, { ES_INDEX_PREFIX: 'a.b' })).toThrow(/ES_INDEX_PREFIX/);
    expect(() => loadConfig(s, { ES_INDEX_PREFIX: 'Test_' })).toThrow(/ES_INDEX_PREFIX/);
  });
});

describe('parseDuration', () => {
  it.each([
    ['250ms', 250],
    ['30s', 30_000],
    ['5m', 300_000],
    ['1.5h', 5_400_000],
    ['7d', 604_800_000],
    [' 2 m ', 120_000],
    // A bare number is milliseconds, for settings and CLI flags alike.
    ['1500', 1_500],
    ['0', 0],
  ])('%s → %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it('refuses what is not a duration', () => {
    for (const bad of ['soon', '', '-1s', '5 minutes', '1w', '1e3']) expect(tryParseDuration(bad)).toBeUndefined();
    expect(() => parseDuration('soon')).toThrow(/"soon" is not a duration \(examples: .*bare number is milliseconds/);
  });
});
