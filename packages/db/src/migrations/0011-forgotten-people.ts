import type { Knex } from 'knex';
import { createTallyTable, datetime3 } from './schema-helpers';
import { PRIVACY_TABLES } from '../tables';

// Forgetting a person (`tally forget`, POST /v1/admin/forget; docs/operations.md "Forgetting a person"):
//
// tally_forgotten: one tombstone per forgotten user or guest ip, so a replay or a late event within
// the topics' retention does not bring their data back: every sink skips events of a subject listed
// here. The subject is stored as SHA-256 of `user:<id>` or `ip:<address>`, not in the clear: the
// table that remembers whom to forget should not itself name them. Kept for good (a few dozen bytes
// each): a client's spool may resend an old event at any time.
//
// tally_forget_audit: who asked, when, and what was removed from each store (counts only).
export async function up(db: Knex): Promise<void> {
  await createTallyTable(db, 'tally_forgotten', (t) => {
    t.bigIncrements('id').unsigned().primary();
    t.enu('subject_kind', ['user', 'ip']).notNullable();
    t.specificType('subject_hash', 'BINARY(32) NOT NULL');
    datetime3(t, 'forgotten_at').notNullable().defaultTo(db.raw('CURRENT_TIMESTAMP(3)'));
    t.unique(['subject_hash'], { indexName: 'tally_forgotten_subject_unique' });
  });
  await createTallyTable(db, 'tally_forget_audit', (t) => {
    t.bigIncrements('id').unsigned().primary();
    t.enu('subject_kind', ['user', 'ip']).notNullable();
    t.specificType('subject_hash', 'BINARY(32) NOT NULL');
    // 'cli:<os user>' or 'admin-api:<token id>': who asked, never a secret.
    t.string('requested_by', 200).notNullable();
    datetime3(t, 'requested_at').notNullable();
    datetime3(t, 'finished_at').nullable();
    // Rows and keys removed or anonymized, per store, as JSON.
    t.text('removed').nullable();
    t.index(['subject_hash'], 'tally_forget_audit_subject_idx');
  });
}

export async function down(db: Knex): Promise<void> {
  for (const table of [...PRIVACY_TABLES].reverse()) await db.schema.dropTableIfExists(table);
}
