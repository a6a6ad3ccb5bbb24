import type { Knex } from 'knex';

// The snapshot-builder's dashboard reads the raw logs' last 30 days by occurred_at. With only
// (occurred_at) to range over, each row in range would cost a primary-key lookup, so MariaDB read
// whole logs instead (view_events: a full scan for the daily trend, the whole (jav_id, occurred_at)
// index plus a row lookup per view for the top movies). On the 1 M-view benchmark, 1 M more views
// older than 30 days made the dashboard 1.32× slower without these indexes (best of 5: 1.43 → 1.88 s)
// and 0.97× with them (1.45 → 1.41 s); without them the cost grows with every month the logs keep.
// They start with occurred_at and hold every column those queries read, so a window is one range of
// one index and older rows are never touched. Only the logs the dashboard counts per item:
// search_events and recommendation_click_events would need their text columns (query, reason) in it.
//
// Every table here is Tally's own, so the same indexes are added with or without CATALOG_MAPPING.
// occurred_at mostly grows with the insert order, so inserts append near the end of each index, and
// InnoDB builds them online (ALGORITHM=INPLACE, LOCK=NONE) while the event-logger goes on writing.
const INDEXES: readonly { table: string; index: string; columns: string[] }[] = [
  { table: 'view_events', index: 'view_events_window_idx', columns: ['occurred_at', 'is_bot', 'repeat_view', 'jav_id', 'user_id'] },
  { table: 'download_events', index: 'download_events_window_idx', columns: ['occurred_at', 'is_bot', 'jav_id'] },
  { table: 'actor_view_events', index: 'actor_view_events_window_idx', columns: ['occurred_at', 'is_bot', 'actor_id'] },
  { table: 'tag_view_events', index: 'tag_view_events_window_idx', columns: ['occurred_at', 'is_bot', 'tag_id'] },
];

async function hasIndex(db: Knex, table: string, index: string): Promise<boolean> {
  const [rows] = (await db.raw('SHOW INDEX FROM ?? WHERE Key_name = ?', [table, index])) as [unknown[]];
  return rows.length > 0;
}

export async function up(db: Knex): Promise<void> {
  for (const { table, index, columns } of INDEXES) {
    if (await hasIndex(db, table, index)) continue;
    await db.raw(`ALTER TABLE ?? ADD INDEX ?? (${columns.map(() => '??').join(', ')}), ALGORITHM=INPLACE, LOCK=NONE`, [
      table,
      index,
      ...columns,
    ]);
  }
}

export async function down(db: Knex): Promise<void> {
  for (const { table, index } of [...INDEXES].reverse()) {
    if (!(await db.schema.hasTable(table)) || !(await hasIndex(db, table, index))) continue;
    await db.raw('ALTER TABLE ?? DROP INDEX ??', [table, index]);
  }
}
