import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import pino from 'pino';
import { RAW_EVENT_TABLES, type RawEventTable } from '@tally/db';
import { eventDefinitions, sampleOwnFields } from '@tally/events';

export const DAY_MS = 86_400_000;

function sampleBody(table: RawEventTable): Record<string, unknown> {
  const type = eventDefinitions().find((d) => d.raw_log_table === table)?.type;
  if (type === undefined) throw new Error(`no event type is logged in ${table}`);
  return sampleOwnFields(type);
}
export const silentLogger = pino({ level: 'silent' });

// Any other raw log gets the own fields of the first type logged in it (schemas/topics.json).
const BODIES: Partial<Record<RawEventTable, (i: number) => Record<string, unknown>>> = {
  view_events: (i) => ({ jav_id: 1 + (i % 50) }),
  download_events: (i) => ({ jav_id: 1 + (i % 50) }),
  actor_view_events: (i) => ({ actor_id: 1 + (i % 20) }),
  tag_view_events: (i) => ({ tag_id: 1 + (i % 20) }),
  recommendation_click_events: (i) => ({ jav_id: 1 + (i % 50), reason: 'co_viewed' }),
  interaction_events: (i) => ({ jav_id: 1 + (i % 50), type: 'like' }),
  search_events: (i) => ({ query: `q${i % 100}`, entity_type: 'movie', result_count: i % 7 }),
  featured_events: (i) => ({ action: 'updated', item_type: 'movie', item_id: 1 + (i % 50), group: 'home' }),
};

/**
 * A raw-log row received at `receivedAt`. Every 40th one happened a year and a half earlier by the
 * client's clock (an offline device, a wrong clock): pruning goes by received_at, so it must stay
 * as long as its neighbours.
 */
export function rawRow(table: RawEventTable, i: number, receivedAt: number): Record<string, unknown> {
  const occurred = i % 40 === 0 ? receivedAt - 550 * DAY_MS : receivedAt - (i % 5000);
  return {
    event_id: randomUUID(),
    user_id: i % 3 === 0 ? null : 1 + (i % 100),
    ...(BODIES[table]?.(i) ?? sampleBody(table)),
    ip: '203.0.113.7',
    user_agent: 'test',
    is_bot: false,
    occurred_at: new Date(occurred),
    received_at: new Date(receivedAt),
  };
}

/** The other growing tables: one row at time `at`, and the column the retention reads. */
export const OTHER_TABLES = {
  history_applied_events: { column: 'applied_at', row: (_i: number, at: number) => ({ event_id: randomUUID(), applied_at: new Date(at) }) },
  dead_letters: {
    column: 'failed_at',
    row: (i: number, at: number) => ({
      topic: 'tally.dead-letter',
      partition: i % 6,
      offset: i,
      reason: 'invalid_payload',
      failed_at: new Date(at),
      original_topic: 'tally.movie.viewed',
    }),
  },
  dead_letter_requeues: {
    column: 'requeued_at',
    row: (i: number, at: number) => ({
      dlq_topic: 'tally.dead-letter',
      partition: i % 6,
      offset: i,
      target_topic: 'tally.movie.viewed',
      reason: 'invalid_payload',
      requeued_at: new Date(at),
    }),
  },
  flush_ledger: { column: 'applied_at', row: (_i: number, at: number) => ({ flush_id: randomUUID(), applied_at: new Date(at) }) },
  job_runs: {
    column: 'started_at',
    row: (i: number, at: number) => ({
      job: i % 2 === 0 ? 'flusher' : 'es-sync',
      started_at: new Date(at),
      finished_at: new Date(at + 1000),
      status: i % 10 === 9 ? 'failed' : 'succeeded',
      items: 1,
    }),
  },
} as const;
export type OtherTable = keyof typeof OTHER_TABLES;

export const TIME_COLUMN: Record<RawEventTable | OtherTable, string> = {
  ...(Object.fromEntries(RAW_EVENT_TABLES.map((t) => [t, 'received_at'])) as Record<RawEventTable, string>),
  ...(Object.fromEntries(Object.entries(OTHER_TABLES).map(([t, v]) => [t, v.column])) as Record<OtherTable, string>),
};

/** Multi-row inserts of 1,000, as the event-logger writes. */
export async function insertRows(db: Knex, table: string, rows: Record<string, unknown>[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 1000) await db(table).insert(rows.slice(i, i + 1000));
}

/** The times inserted per table, ascending: what must remain after a cut-off. */
export class RetentionOracle {
  private readonly times = new Map<string, number[]>();

  add(table: string, at: number): void {
    const list = this.times.get(table) ?? [];
    list.push(at);
    this.times.set(table, list);
  }

  /** Rows at or after `cutoff` (nothing inside the retention may be removed). */
  keptFrom(table: string, cutoff: number): number {
    const list = this.times.get(table) ?? [];
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid]! < cutoff) lo = mid + 1;
      else hi = mid;
    }
    return list.length - lo;
  }
}

/** Row count and rows older than `cutoff`, in one scan. */
export async function countRows(db: Knex, table: string, column: string, cutoff: Date): Promise<{ n: number; old: number }> {
  const [[row]] = (await db.raw('SELECT COUNT(*) AS n, COALESCE(SUM(?? < ?), 0) AS old FROM ??', [column, cutoff, table])) as [
    [{ n: number; old: number | string }],
  ];
  return { n: Number(row.n), old: Number(row.old) };
}
