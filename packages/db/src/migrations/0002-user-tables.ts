import type { Knex } from 'knex';
import { auditTimestamps, createWebAppTableIfMissing, datetime3, dropOwnedObjects } from './schema-helpers';

// The web app's users and their per-movie state, which the history sink upserts.
const TABLES = ['users', 'user_jav_history', 'user_interactions', 'watchlists'];

async function createUsers(db: Knex): Promise<void> {
  await createWebAppTableIfMissing(db, 'users', (t) => {
    t.bigIncrements('id').unsigned().primary();
    t.string('username', 64).notNullable().unique('users_username_unique');
    t.string('email', 254).notNullable().unique('users_email_unique');
    auditTimestamps(db, t);
  });
}

async function createHistory(db: Knex): Promise<void> {
  await createWebAppTableIfMissing(db, 'user_jav_history', (t) => {
    t.bigIncrements('id').unsigned().primary();
    t.bigInteger('user_id').unsigned().notNullable();
    t.bigInteger('jav_id').unsigned().notNullable();
    t.integer('view_count').unsigned().notNullable().defaultTo(0);
    datetime3(t, 'first_viewed_at').nullable();
    datetime3(t, 'last_viewed_at').nullable();
    t.boolean('downloaded').notNullable().defaultTo(false);
    t.integer('download_count').unsigned().notNullable().defaultTo(0);
    datetime3(t, 'last_downloaded_at').nullable();
    // 45 = the longest textual IPv6 address (IPv4-mapped form).
    t.string('ip', 45).nullable();
    t.string('user_agent', 512).nullable();
    auditTimestamps(db, t);
    t.unique(['user_id', 'jav_id'], { indexName: 'user_jav_history_user_jav_unique' });
    // "Recently watched" for a user, newest first.
    t.index(['user_id', 'last_viewed_at'], 'user_jav_history_user_last_viewed_idx');
    t.index(['jav_id'], 'user_jav_history_jav_idx');
  });
}

async function createInteractions(db: Knex): Promise<void> {
  await createWebAppTableIfMissing(db, 'user_interactions', (t) => {
    t.bigInteger('user_id').unsigned().notNullable();
    t.bigInteger('jav_id').unsigned().notNullable();
    t.boolean('liked').notNullable().defaultTo(false);
    t.tinyint('rating').unsigned().nullable();
    // Event time of the last applied change, one per facet: like/unlike, rate and watchlist travel on
    // different topics and arrive out of order; an update applies only when its event time is newer.
    // One shared time would let a late "rate" hide an earlier-received but newer "unlike".
    datetime3(t, 'liked_event_at').nullable();
    datetime3(t, 'rating_event_at').nullable();
    // watchlists rows are deleted on unwatchlist, so the tombstone's time lives here.
    datetime3(t, 'watchlist_event_at').nullable();
    datetime3(t, 'updated_at').notNullable().defaultTo(db.raw('CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3)'));
    t.primary(['user_id', 'jav_id']);
    t.index(['jav_id', 'liked'], 'user_interactions_jav_liked_idx');
  });
  await createWebAppTableIfMissing(db, 'watchlists', (t) => {
    t.bigInteger('user_id').unsigned().notNullable();
    t.bigInteger('jav_id').unsigned().notNullable();
    datetime3(t, 'added_at').notNullable().defaultTo(db.raw('CURRENT_TIMESTAMP(3)'));
    t.primary(['user_id', 'jav_id']);
    t.index(['user_id', 'added_at'], 'watchlists_user_added_idx');
    t.index(['jav_id'], 'watchlists_jav_idx');
  });
}

export async function up(db: Knex): Promise<void> {
  await createUsers(db);
  await createHistory(db);
  await createInteractions(db);
}

export async function down(db: Knex): Promise<void> {
  await dropOwnedObjects(db, TABLES);
}
