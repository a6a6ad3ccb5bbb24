import type { Knex } from 'knex';
import { SHIPPED_TABLES } from './0003-raw-event-logs';

// The retention job (services/retention) deletes by server time in small batches:
// `DELETE … WHERE <time> < ? ORDER BY <time>, <key> LIMIT n`. Each batch must read exactly the rows
// it deletes from the start of an index, or every batch would scan the table and hold its locks the
// while. Raw logs are pruned by received_at (the ingest API's clock, ≈ the Kafka timestamp the topic
// retention counts from), not occurred_at (the client's, unbounded in the past), and only occurred_at
// had an index. received_at grows with the insert order, so the new index is appended to at its end:
// a cheap extra write per row. dead_letter_requeues had no time index at all.
//
// Every table here is Tally's own, so the same indexes are added with or without CATALOG_MAPPING.
// InnoDB builds a secondary index online (ALGORITHM=INPLACE, LOCK=NONE): the event-logger's inserts go
// on while a large raw log is indexed.
const INDEXES: readonly { table: string; index: string; columns: string[] }[] = [
  // The raw logs 0003 created; a raw log added later gets its received_at index in its own migration.
  ...SHIPPED_TABLES.map((table) => ({ table, index: `${table}_received_idx`, columns: ['received_at'] })),
  { table: 'dead_letter_requeues', index: 'dead_letter_requeues_requeued_idx', columns: ['requeued_at'] },
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
