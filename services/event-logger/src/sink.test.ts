import type { Knex } from 'knex';
import { sampleEvents, type TallyEvent } from '@tally/events';
import type { PartitionBatch } from '@tally/kafka';
import { createLogger, ServiceMetrics } from '@tally/runtime';
import { loadEventLoggerConfig } from './config';
import { rawRowOf } from './handler';
import { insertIgnore, MAX_ROWS_PER_STATEMENT, RawLogSink } from './sink';

const logger = createLogger({ service: 'event-logger-test', level: 'silent' });
const viewed = (n: number): TallyEvent => ({
  type: 'movie.viewed',
  payload: { ...sampleEvents()['movie.viewed'], event_id: `3f2c7b9e-8d4a-4c1e-9f6b-${String(n).padStart(12, '0')}` },
});

/** A knex stand-in: records the statements of each transaction; `affected` decides what MySQL "inserted". */
function fakeDb(affected: (rows: number) => number | Error) {
  const statements: { sql: string; bindings: unknown[] }[] = [];
  const trx = {
    raw: async (sql: string, bindings: unknown[]) => {
      statements.push({ sql, bindings });
      const rows = (sql.match(/\),\(/g)?.length ?? 0) + 1;
      const a = affected(rows);
      if (a instanceof Error) throw a;
      return [{ affectedRows: a, warningStatus: rows - a }, undefined];
    },
  };
  const db = { transaction: async (fn: (t: typeof trx) => Promise<unknown>) => fn(trx) } as unknown as Knex;
  return { db, statements };
}

function batch(events: TallyEvent[]) {
  const reported: number[] = [];
  const b: PartitionBatch<TallyEvent> = {
    topic: 't.movie.viewed',
    partition: 0,
    messages: events.map((value, i) => ({
      topic: 't.movie.viewed',
      partition: 0,
      offset: String(i),
      key: null,
      value,
      schemaId: 1,
      timestamp: '0',
    })),
    firstOffset: '0',
    lastOffset: String(Math.max(0, events.length - 1)),
    heartbeat: async () => undefined,
    reportReprocessed: (n) => reported.push(n),
  };
  return { b, reported };
}

describe('insertIgnore', () => {
  it('one multi-row INSERT IGNORE, columns quoted in table order, one binding per cell', () => {
    const rows = [rawRowOf(viewed(1)), rawRowOf(viewed(2))];
    const { sql, bindings } = insertIgnore('view_events', rows);
    expect(sql).toBe(
      'INSERT IGNORE INTO `view_events` (`event_id`,`user_id`,`ip`,`user_agent`,`is_bot`,`occurred_at`,`received_at`,`jav_id`,`repeat_view`) VALUES (?,?,?,?,?,?,?,?,?),(?,?,?,?,?,?,?,?,?)',
    );
    expect(bindings).toHaveLength(18);
    expect(bindings.slice(0, 9)).toEqual(Object.values(rows[0]!));
  });

  it('quotes `group` and `rank` (reserved words) in featured_events', () => {
    const { sql } = insertIgnore('featured_events', [
      rawRowOf({ type: 'featured.item.created', payload: sampleEvents()['featured.item.created'] }),
    ]);
    expect(sql).toContain('`group`,`previous_group`,`rank`');
  });
});

describe('RawLogSink.handle', () => {
  const metrics = () => new ServiceMetrics('event_logger_test', { defaultMetrics: false });

  it('splits 2,500 rows into statements of at most 1,000 in one transaction and reports done', async () => {
    const { db, statements } = fakeDb((n) => n);
    const { b, reported } = batch(Array.from({ length: 2_500 }, (_, i) => viewed(i)));
    expect(await new RawLogSink(db, logger, metrics()).handle(b)).toEqual({ kind: 'done' });
    expect(statements.map((s) => s.bindings.length / 9)).toEqual([MAX_ROWS_PER_STATEMENT, 1_000, 500]);
    expect(reported).toEqual([]);
  });

  it('reports the rows MySQL ignored (already logged) as reprocessed', async () => {
    const { db } = fakeDb((n) => n - 3);
    const { b, reported } = batch(Array.from({ length: 10 }, (_, i) => viewed(i)));
    const m = metrics();
    expect(await new RawLogSink(db, logger, m).handle(b)).toEqual({ kind: 'done' });
    expect(reported).toEqual([3]);
    expect(await m.registry.metrics()).toMatch(/tally_raw_log_rows_inserted_total\{table="view_events",service="event_logger_test"\} 7/);
  });

  it('turns any MySQL error into retry, never a dead letter', async () => {
    const err = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:3306'), { code: 'ECONNREFUSED' });
    const { db } = fakeDb(() => err);
    const { b, reported } = batch([viewed(1)]);
    expect(await new RawLogSink(db, logger, metrics()).handle(b)).toEqual({ kind: 'retry', error: err });
    expect(reported).toEqual([]);
  });
});

describe('config', () => {
  it('defaults: management port 9101, group tally-event-logger, chunks of 1,000', () => {
    const c = loadEventLoggerConfig({});
    expect(c).toMatchObject({ MANAGEMENT_PORT: 9101, GROUP_ID: 'tally-event-logger', MAX_CHUNK: 1_000, TOPIC_PREFIX: 'tally.' });
  });

  it('names the variable that is wrong', () => {
    expect(() => loadEventLoggerConfig({ MAX_CHUNK: 'lots' })).toThrow(/MAX_CHUNK/);
    expect(() => loadEventLoggerConfig({ MYSQL_POOL_SIZE: '0' })).toThrow(/MYSQL_POOL_SIZE/);
  });
});
