import type { Knex } from 'knex';
// The index es-sync walks, named once in the catalog (the app's jav gets the same one from `tally adopt apply`).
import { COUNTS_INDEX } from '@tally/catalog';
import {
  addColumnIfMissing,
  addIndexIfMissing,
  auditTimestamps,
  createOwnershipRegistry,
  createWebAppTableIfMissing,
  datetime3,
  dropOwnedObjects,
} from './schema-helpers';
import { OWNERSHIP_TABLE } from '../tables';

// The web app's catalog. No foreign keys anywhere: these tables belong to the web app (a pre-existing
// `jav` may not even have an UNSIGNED id), and the seeder truncates and refills them in bulk.
const TABLES = ['jav', 'actors', 'tags', 'jav_actors', 'jav_tags', 'featured_items'];

async function createJav(db: Knex): Promise<void> {
  await createWebAppTableIfMissing(db, 'jav', (t) => {
    t.bigIncrements('id').unsigned().primary();
    t.string('code', 32).notNullable().unique('jav_code_unique');
    t.string('title', 500).notNullable();
    t.string('provider', 100).notNullable();
    t.date('release_date').nullable();
    // Signed on purpose: the flusher applies `likes = likes + delta` with negative deltas (unlike),
    // and an UNSIGNED column errors out on an intermediate negative instead of clamping.
    t.bigInteger('views').notNullable().defaultTo(0);
    t.bigInteger('downloads').notNullable().defaultTo(0);
    t.bigInteger('likes').notNullable().defaultTo(0);
    datetime3(t, 'counts_updated_at').nullable();
    auditTimestamps(db, t);
    t.index(['provider', 'release_date'], 'jav_provider_release_idx');
    t.index(['release_date'], 'jav_release_date_idx');
  });
  // A jav table the web app brought may lack the pipeline's columns; add only what is missing
  // (ADD COLUMN at the end is INSTANT on MariaDB 10.3+ and MySQL 8.0.12+, so no table copy).
  for (const metric of ['views', 'downloads', 'likes'] as const) {
    await addColumnIfMissing(db, 'jav', metric, (t) => {
      t.bigInteger(metric).notNullable().defaultTo(0);
    });
  }
  await addColumnIfMissing(db, 'jav', 'counts_updated_at', (t) => {
    datetime3(t, 'counts_updated_at').nullable();
  });
  await addIndexIfMissing(db, 'jav', COUNTS_INDEX, ['counts_updated_at', 'id']);
}

async function createPeopleAndTags(db: Knex): Promise<void> {
  await createWebAppTableIfMissing(db, 'actors', (t) => {
    t.bigIncrements('id').unsigned().primary();
    t.string('name', 200).notNullable();
    auditTimestamps(db, t);
    t.index(['name'], 'actors_name_idx');
  });
  await createWebAppTableIfMissing(db, 'tags', (t) => {
    t.bigIncrements('id').unsigned().primary();
    t.string('name', 100).notNullable().unique('tags_name_unique');
    auditTimestamps(db, t);
  });
  // Both directions are read: a movie's actors, and an actor's movies (the reverse index).
  for (const [table, other] of [
    ['jav_actors', 'actor_id'],
    ['jav_tags', 'tag_id'],
  ] as const) {
    await createWebAppTableIfMissing(db, table, (t) => {
      t.bigInteger('jav_id').unsigned().notNullable();
      t.bigInteger(other).unsigned().notNullable();
      t.primary(['jav_id', other]);
      t.index([other, 'jav_id'], `${table}_${other}_jav_idx`);
    });
  }
}

async function createFeaturedItems(db: Knex): Promise<void> {
  await createWebAppTableIfMissing(db, 'featured_items', (t) => {
    t.bigIncrements('id').unsigned().primary();
    t.enu('item_type', ['movie', 'actor', 'tag']).notNullable();
    t.bigInteger('item_id').unsigned().notNullable();
    t.string('group', 64).notNullable();
    t.integer('rank').notNullable().defaultTo(0);
    t.boolean('active').notNullable().defaultTo(true);
    datetime3(t, 'expires_at').nullable();
    auditTimestamps(db, t);
    // The home page reads one group's active items in rank order.
    t.index(['group', 'active', 'rank'], 'featured_items_group_active_rank_idx');
    t.unique(['group', 'item_type', 'item_id'], { indexName: 'featured_items_group_item_unique' });
  });
}

export async function up(db: Knex): Promise<void> {
  await createOwnershipRegistry(db);
  await createJav(db);
  await createPeopleAndTags(db);
  await createFeaturedItems(db);
}

export async function down(db: Knex): Promise<void> {
  await dropOwnedObjects(db, TABLES);
  await db.schema.dropTableIfExists(OWNERSHIP_TABLE);
}

/** With a web app's own tables (no web-app tables created): only the registry, which stays empty. */
export async function upOwnershipOnly(db: Knex): Promise<void> {
  await createOwnershipRegistry(db);
}

/**
 * Never drops an app object, even one the registry says Tally created in an earlier demo-mode run:
 * once the app's tables are mapped, such a table may hold the app's data. The registry goes only
 * when empty, so that record outlives the rollback.
 */
export async function downOwnershipOnly(db: Knex): Promise<void> {
  if (!(await db.schema.hasTable(OWNERSHIP_TABLE))) return;
  const [{ n }] = (await db(OWNERSHIP_TABLE).count({ n: '*' })) as [{ n: number | string }];
  if (Number(n) === 0) await db.schema.dropTable(OWNERSHIP_TABLE);
}
