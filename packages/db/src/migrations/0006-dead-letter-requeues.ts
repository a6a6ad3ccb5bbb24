import type { Knex } from 'knex';
import { ASCII_TOPIC, createTallyTable, datetime3 } from './schema-helpers';
import { REQUEUE_TABLES } from '../tables';

// `tally dlq requeue` records each dead letter it sent back, so a second run does not resend it
// (resending would be harmless for exact sinks, but it is noise, and it would re-count a counter
// event once the counter's event_id dedup window has passed).
export async function up(db: Knex): Promise<void> {
  await createTallyTable(db, 'dead_letter_requeues', (t) => {
    t.specificType('dlq_topic', `${ASCII_TOPIC} NOT NULL`);
    t.integer('partition').notNullable();
    t.bigInteger('offset').notNullable();
    t.specificType('target_topic', `${ASCII_TOPIC} NOT NULL`);
    t.string('reason', 100).notNullable();
    datetime3(t, 'requeued_at').notNullable().defaultTo(db.raw('CURRENT_TIMESTAMP(3)'));
    t.primary(['dlq_topic', 'partition', 'offset']);
  });
}

export async function down(db: Knex): Promise<void> {
  for (const table of REQUEUE_TABLES) await db.schema.dropTableIfExists(table);
}
