import type { Knex } from 'knex';
import { ASCII_TOPIC, ASCII_UUID, createTallyTable, datetime3 } from './schema-helpers';
import { BOOKKEEPING_TABLES } from '../tables';

// Progress stored atomically with effects (docs/exactly-once.md: counter, flusher, history). Kafka
// offsets are int64, so BIGINT signed; partitions are int32.

async function createFlushBookkeeping(db: Knex): Promise<void> {
  // One row per applied flush: the flusher's recovery asks "is this flushing: hash in the ledger?".
  await createTallyTable(db, 'flush_ledger', (t) => {
    t.specificType('flush_id', `${ASCII_UUID} NOT NULL`).primary();
    datetime3(t, 'applied_at').notNullable().defaultTo(db.raw('CURRENT_TIMESTAMP(3)'));
    t.integer('jav_rows').unsigned().notNullable().defaultTo(0);
    t.integer('delta_fields').unsigned().notNullable().defaultTo(0);
    t.integer('offset_rows').unsigned().notNullable().defaultTo(0);
    t.index(['applied_at'], 'flush_ledger_applied_idx');
  });
  // The highest offset per partition whose counter deltas are in MySQL: where the counter rewinds to
  // when Redis lost its state.
  await createTallyTable(db, 'counter_offsets', (t) => {
    t.specificType('topic', `${ASCII_TOPIC} NOT NULL`);
    t.integer('partition').notNullable();
    t.bigInteger('offset').notNullable();
    datetime3(t, 'updated_at').notNullable().defaultTo(db.raw('CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3)'));
    t.primary(['topic', 'partition']);
  });
}

async function createHistoryBookkeeping(db: Knex): Promise<void> {
  // The history sink's progress, written in the same transaction as its upserts.
  await createTallyTable(db, 'consumer_progress', (t) => {
    t.string('group_id', 255).notNullable();
    t.specificType('topic', `${ASCII_TOPIC} NOT NULL`);
    t.integer('partition').notNullable();
    t.bigInteger('offset').notNullable();
    datetime3(t, 'updated_at').notNullable().defaultTo(db.raw('CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3)'));
    t.primary(['group_id', 'topic', 'partition']);
  });
  // Absorbs client retries (same event_id at another offset); pruned by applied_at.
  await createTallyTable(db, 'history_applied_events', (t) => {
    t.specificType('event_id', `${ASCII_UUID} NOT NULL`).primary();
    datetime3(t, 'applied_at').notNullable().defaultTo(db.raw('CURRENT_TIMESTAMP(3)'));
    t.index(['applied_at'], 'history_applied_events_applied_idx');
  });
}

async function createSyncAndJobs(db: Knex): Promise<void> {
  await createTallyTable(db, 'sync_watermarks', (t) => {
    t.string('name', 100).notNullable().primary();
    datetime3(t, 'watermark').notNullable();
    // Tie-breaker: one flush stamps thousands of rows with the same counts_updated_at, so a time-only
    // watermark would either rescan them all or skip the ones after a crash mid-batch.
    t.bigInteger('watermark_id').unsigned().notNullable().defaultTo(0);
    datetime3(t, 'updated_at').notNullable().defaultTo(db.raw('CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3)'));
  });
  await createTallyTable(db, 'job_runs', (t) => {
    t.bigIncrements('id').unsigned().primary();
    t.string('job', 100).notNullable();
    datetime3(t, 'started_at').notNullable();
    datetime3(t, 'finished_at').nullable();
    t.enu('status', ['running', 'succeeded', 'failed']).notNullable().defaultTo('running');
    t.bigInteger('items').unsigned().nullable();
    t.text('error').nullable();
    // "Last success of job X": WHERE job = ? AND status = 'succeeded' ORDER BY finished_at DESC LIMIT 1.
    t.index(['job', 'status', 'finished_at'], 'job_runs_job_status_finished_idx');
    t.index(['started_at'], 'job_runs_started_idx');
  });
}

export async function up(db: Knex): Promise<void> {
  await createFlushBookkeeping(db);
  await createHistoryBookkeeping(db);
  await createSyncAndJobs(db);
}

export async function down(db: Knex): Promise<void> {
  for (const table of [...BOOKKEEPING_TABLES].reverse()) await db.schema.dropTableIfExists(table);
}
