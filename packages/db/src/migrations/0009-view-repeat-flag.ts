import type { Knex } from 'knex';
import { addTallyColumnIfMissing } from './schema-helpers';

// The ingest API's VIEW_DEDUP_WINDOW verdict, stored with each view so the raw log says which views
// the counters skipped. Views logged before this column existed were all counted: false is right
// for them. Added last (no AFTER): MariaDB ≥ 10.3 and MySQL ≥ 8.0.12 then add it instantly, without
// copying a view log of millions of rows.
export async function up(db: Knex): Promise<void> {
  await addTallyColumnIfMissing(db, 'view_events', 'repeat_view', (t) => {
    t.boolean('repeat_view').notNullable().defaultTo(false);
  });
}

export async function down(db: Knex): Promise<void> {
  if (!(await db.schema.hasTable('view_events')) || !(await db.schema.hasColumn('view_events', 'repeat_view'))) return;
  await db.schema.alterTable('view_events', (t) => {
    t.dropColumn('repeat_view');
  });
}
