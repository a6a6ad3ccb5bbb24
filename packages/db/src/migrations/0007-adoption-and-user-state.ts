import type { Knex } from 'knex';
import { ASCII_UUID, createTallyTable, datetime3 } from './schema-helpers';
import { ADOPTION_TABLES } from '../tables';

// Two Tally tables of the adoption of an existing app (docs/adopting.md):
//
// tally_adopted_objects: every column and index `tally adopt apply` added to an app table, so
// `tally adopt rollback` removes exactly those. Schema and table are stored apart (each is up to 64
// characters), the DDL verbatim for the record.
//
// movie_user_state: per (facet, movie, user) the latest like/unlike, rating or watchlist change by
// occurred_at. The counter keeps the live copy in Redis and the flusher moves it here in the same
// transaction as the counts it explains, so after a Redis loss the counter rebuilds from a state and
// counts that agree. `tally adopt backfill` fills it from the app's own interactions.
export async function up(db: Knex): Promise<void> {
  await createTallyTable(db, 'tally_adopted_objects', (t) => {
    t.bigIncrements('id').unsigned().primary();
    t.string('schema_name', 64).notNullable();
    t.string('table_name', 64).notNullable();
    t.enu('object_kind', ['column', 'index']).notNullable();
    t.string('object_name', 64).notNullable();
    t.text('ddl').notNullable();
    datetime3(t, 'applied_at').notNullable().defaultTo(db.raw('CURRENT_TIMESTAMP(3)'));
    t.unique(['schema_name', 'table_name', 'object_kind', 'object_name'], { indexName: 'tally_adopted_objects_object_unique' });
  });
  await createTallyTable(db, 'movie_user_state', (t) => {
    t.enu('facet', ['like', 'rating', 'watchlist']).notNullable();
    t.bigInteger('jav_id').unsigned().notNullable();
    t.bigInteger('user_id').unsigned().notNullable();
    // like/watchlist: 1 or 0; rating: the stars, 0 = no rating.
    t.tinyint('value').unsigned().notNullable();
    // The event that set it (occurred_at, then event_id breaks ties); a backfilled row has the app's
    // change time and no event id.
    datetime3(t, 'event_at').notNullable();
    t.specificType('event_id', `${ASCII_UUID} NULL`);
    t.primary(['facet', 'jav_id', 'user_id']);
    // A person's rows, for forgetting them.
    t.index(['user_id'], 'movie_user_state_user_idx');
  });
}

export async function down(db: Knex): Promise<void> {
  for (const table of [...ADOPTION_TABLES].reverse()) await db.schema.dropTableIfExists(table);
}
