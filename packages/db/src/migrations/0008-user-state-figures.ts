import type { Knex } from 'knex';
import { addColumnIfMissing } from './schema-helpers';
import { OWNERSHIP_TABLE } from '../tables';

// The figures of per-user state beside views/downloads/likes on the demo's jav: the number of users
// who rated a movie and the sum of their current stars (average = rating_sum / rating_count, kept as
// two integers so every flush adds exactly), and the number of users with it on their watchlist.
// Against the app's own jav `tally adopt apply` adds them instead (packages/catalog).
const COLUMNS = ['rating_count', 'rating_sum', 'watchlists'] as const;

export async function up(db: Knex): Promise<void> {
  for (const column of COLUMNS) {
    await addColumnIfMissing(db, 'jav', column, (t) => {
      t.bigInteger(column).notNullable().defaultTo(0);
    });
  }
}

/** Drops only the columns this migration recorded as added (a jav that came with them keeps them). */
export async function down(db: Knex): Promise<void> {
  for (const column of [...COLUMNS].reverse()) {
    const owned = await db(OWNERSHIP_TABLE).where({ table_name: 'jav', object_kind: 'column', object_name: column }).first();
    if (!owned) continue;
    if (await db.schema.hasColumn('jav', column)) await db.schema.alterTable('jav', (t) => t.dropColumn(column));
    await db(OWNERSHIP_TABLE).where({ table_name: 'jav', object_kind: 'column', object_name: column }).delete();
  }
}
