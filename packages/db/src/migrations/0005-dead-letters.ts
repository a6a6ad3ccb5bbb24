import type { Knex } from 'knex';
import { ASCII_TOPIC, createTallyTable, datetime3 } from './schema-helpers';
import { DEAD_LETTER_TABLES } from '../tables';

// Poison messages copied from the dead-letter topic so the dashboard can count them per reason in
// MySQL (FerretDB cannot aggregate) and `tally dlq list` can page through them without a consumer.

async function createDeadLetters(db: Knex): Promise<void> {
  await createTallyTable(db, 'dead_letters', (t) => {
    t.bigIncrements('id').unsigned().primary();
    // Where the record sits on the dead-letter topic: the identity that makes a re-copy add nothing.
    t.specificType('topic', `${ASCII_TOPIC} NOT NULL`);
    t.integer('partition').notNullable();
    t.bigInteger('offset').notNullable();
    // 'unknown' when a producer wrote no tally-dlq-reason header.
    t.string('reason', 100).notNullable();
    t.text('detail').nullable();
    t.string('step', 16).nullable();
    t.string('service', 100).nullable();
    // Where the message was refused, from the tally-dlq-* headers.
    t.specificType('original_topic', `${ASCII_TOPIC} NULL`);
    t.integer('original_partition').nullable();
    t.bigInteger('original_offset').nullable();
    // Event type of the original topic under the deployment's TOPIC_PREFIX; null for unknown topics.
    t.string('event_type', 100).nullable();
    datetime3(t, 'failed_at').notNullable();
    // Key and value byte for byte, and every header as JSON, so a requeue replays what arrived.
    t.specificType('message_key', 'BLOB NULL');
    t.specificType('payload', 'LONGBLOB NULL');
    t.text('headers', 'longtext').nullable();
    datetime3(t, 'copied_at').notNullable().defaultTo(db.raw('CURRENT_TIMESTAMP(3)'));
    t.unique(['topic', 'partition', 'offset'], { indexName: 'dead_letters_topic_partition_offset_unique' });
    // Counts per reason (dashboard) and `tally dlq list --reason` newest first.
    t.index(['reason', 'failed_at'], 'dead_letters_reason_failed_idx');
    t.index(['failed_at'], 'dead_letters_failed_idx');
  });
  // The copier's read position per partition, advanced in the same transaction as the rows it copied.
  await createTallyTable(db, 'dead_letter_offsets', (t) => {
    t.specificType('topic', `${ASCII_TOPIC} NOT NULL`);
    t.integer('partition').notNullable();
    t.bigInteger('next_offset').notNullable();
    datetime3(t, 'updated_at').notNullable().defaultTo(db.raw('CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3)'));
    t.primary(['topic', 'partition']);
  });
}

export async function up(db: Knex): Promise<void> {
  await createDeadLetters(db);
}

export async function down(db: Knex): Promise<void> {
  for (const table of [...DEAD_LETTER_TABLES].reverse()) await db.schema.dropTableIfExists(table);
}
