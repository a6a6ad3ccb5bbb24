import { RAW_EVENT_TABLES } from '@tally/db';
import { loadRetentionConfig, retentionSettings, topicRetention } from './config';
import { cutoffFor, DAY_MS, MIN_BATCH_ROWS, nextBatchRows, replayFloorMs, retentionFloors, retentionRules, tableDone } from './handler';

const topics = { eventTopicsMs: 7 * DAY_MS, deadLetterTopicMs: 30 * DAY_MS };
const defaults = () => retentionSettings(loadRetentionConfig({}));

describe('topic retention', () => {
  it('is read from schemas/topics.json: 7 days for the event topics, 30 for the dead letters', () => {
    expect(topicRetention()).toEqual(topics);
  });
});

describe('cut-offs and margins', () => {
  it('keeps applied-event ids for the topics retention plus the margin', () => {
    expect(replayFloorMs(7 * DAY_MS, DAY_MS)).toBe(8 * DAY_MS);
    const rules = retentionRules(defaults(), topics);
    expect(rules.find((r) => r.table === 'history_applied_events')).toMatchObject({ timeColumn: 'applied_at', keepMs: 8 * DAY_MS });
    expect(rules.find((r) => r.table === 'dead_letter_requeues')).toMatchObject({ timeColumn: 'requeued_at', keepMs: 31 * DAY_MS });
  });

  it('prunes raw logs by received_at (server time), 90 days by default, each table overridable', () => {
    const s = retentionSettings(loadRetentionConfig({ RETENTION_SEARCH_EVENTS: '30d' }));
    const rules = retentionRules(s, topics);
    for (const t of RAW_EVENT_TABLES) {
      expect(rules.find((r) => r.table === t)).toMatchObject({
        timeColumn: 'received_at',
        keyColumns: ['id'],
        keepMs: (t === 'search_events' ? 30 : 90) * DAY_MS,
      });
    }
    expect(
      retentionRules(retentionSettings(loadRetentionConfig({ RAW_LOG_RETENTION: '14d' })), topics).find((r) => r.table === 'view_events')!
        .keepMs,
    ).toBe(14 * DAY_MS);
  });

  it('covers every growing table once, with the defaults documented in docs/operations.md', () => {
    const keep = Object.fromEntries(retentionRules(defaults(), topics).map((r) => [r.table, r.keepMs / DAY_MS]));
    expect(keep).toEqual({
      ...Object.fromEntries(RAW_EVENT_TABLES.map((t) => [t, 90])),
      history_applied_events: 8,
      dead_letter_requeues: 31,
      dead_letters: 90,
      flush_ledger: 30,
      job_runs: 30,
    });
    expect(retentionRules(defaults(), topics).find((r) => r.table === 'job_runs')!.keepLatestSuccessPerJob).toBe(true);
  });

  it('the cut-off is now minus the retention; a row exactly at it stays (strict <)', () => {
    const now = new Date('2026-12-06T12:00:00.000Z');
    expect(cutoffFor({ keepMs: 8 * DAY_MS }, now).toISOString()).toBe('2026-11-28T12:00:00.000Z');
  });

  it('refuses a retention inside the replay window, naming the variable and the floor', () => {
    expect(() => loadRetentionConfig({ RAW_LOG_RETENTION: '7d' })).toThrow(/RAW_LOG_RETENTION: must be at least 8 d/);
    expect(() => loadRetentionConfig({ RETENTION_VIEW_EVENTS: '3d' })).toThrow(/RETENTION_VIEW_EVENTS: must be at least 8 d/);
    expect(() => loadRetentionConfig({ RETENTION_REPLAY_MARGIN: '90d' })).toThrow(/RAW_LOG_RETENTION: must be at least 97 d/);
    expect(() => loadRetentionConfig({ RETENTION_DEAD_LETTERS: '30d' })).toThrow(/RETENTION_DEAD_LETTERS: must be at least 31 d/);
    expect(() => loadRetentionConfig({ RETENTION_JOB_RUNS: '2h' })).toThrow(/RETENTION_JOB_RUNS/);
    expect(() => loadRetentionConfig({ RETENTION_MAX_LOCK: 'soon' })).toThrow(/RETENTION_MAX_LOCK: must be a duration/);
    expect(retentionFloors(topics, DAY_MS)).toMatchObject({ rawLogsMs: 8 * DAY_MS, deadLettersMs: 31 * DAY_MS });
  });

  it('defaults: hourly, 1,000-row batches, a 1 s lock bound, 100 ms pauses', () => {
    expect(loadRetentionConfig({})).toMatchObject({
      SCHEDULE: '23 * * * *',
      MANAGEMENT_PORT: 9107,
      RETENTION_BATCH_ROWS: 1000,
      RETENTION_MAX_LOCK: 1000,
      RETENTION_BATCH_PAUSE: 100,
    });
  });
});

describe('batch planning', () => {
  const bounds = { maxRows: 1000, maxLockMs: 1000 };
  it('stays at the configured size while batches are well under the bound', () => {
    expect(nextBatchRows(1000, 20, bounds)).toBe(1000);
    expect(nextBatchRows(1000, 300, bounds)).toBe(1000);
  });
  it('halves above half the bound, a quarter after a kill at the bound, never under the minimum', () => {
    expect(nextBatchRows(1000, 600, bounds)).toBe(500);
    expect(nextBatchRows(1000, 1000, bounds, true)).toBe(250);
    expect(nextBatchRows(12, 900, bounds)).toBe(MIN_BATCH_ROWS);
  });
  it('grows back by doubling below an eighth of the bound, never above RETENTION_BATCH_ROWS', () => {
    expect(nextBatchRows(250, 50, bounds)).toBe(500);
    expect(nextBatchRows(800, 10, bounds)).toBe(1000);
  });
  it('a table is done when a batch deleted fewer rows than it asked for', () => {
    expect(tableDone(1000, 1000)).toBe(false);
    expect(tableDone(999, 1000)).toBe(true);
    expect(tableDone(0, 1000)).toBe(true);
  });
});
