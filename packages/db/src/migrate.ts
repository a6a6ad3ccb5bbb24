import type { Knex } from 'knex';
import { createMigrationSource, type MigrationOptions } from './migrations';
import { dropCatalogRawLogTables, syncRawLogTables } from './raw-logs';
import { MIGRATIONS_TABLE } from './tables';

/** The demo schema: web-app tables created when missing. */
const DEMO: MigrationOptions = { webAppTables: true };

function configFor(options: MigrationOptions): Knex.MigratorConfig {
  return {
    migrationSource: createMigrationSource(options) as Knex.MigrationSource<unknown>,
    tableName: MIGRATIONS_TABLE,
    // MySQL and MariaDB commit implicitly before and after every DDL statement, so a wrapping
    // transaction would promise an atomicity it cannot give; each migration is re-runnable instead.
    disableTransactions: true,
  };
}

export interface MigrationStatus {
  completed: string[];
  pending: string[];
}

/** Applies every pending migration; returns the names it applied (empty when already up to date). */
export async function migrateLatest(db: Knex, options: MigrationOptions = DEMO): Promise<string[]> {
  const [, applied] = (await db.migrate.latest(configFor(options))) as [number, string[]];
  // Not a numbered migration: it runs every time, so a raw log or field added to the catalog later is created too.
  await syncRawLogTables(db);
  return applied;
}

/**
 * Rolls back every applied migration and removes knex's own log tables, leaving the database as it
 * was before the first migrateLatest (web-app tables that existed then are untouched). Without
 * web-app tables (a mapped app) no app object is dropped at all, whoever created it.
 */
export async function migrateRollbackAll(db: Knex, options: MigrationOptions = DEMO): Promise<string[]> {
  await dropCatalogRawLogTables(db);
  const [, reverted] = (await db.migrate.rollback(configFor(options), true)) as [number, string[]];
  await db.schema.dropTableIfExists(MIGRATIONS_TABLE);
  await db.schema.dropTableIfExists(`${MIGRATIONS_TABLE}_lock`);
  return reverted;
}

export async function migrationStatus(db: Knex, options: MigrationOptions = DEMO): Promise<MigrationStatus> {
  const [completed, pending] = (await db.migrate.list(configFor(options))) as [{ name: string }[], { name: string }[]];
  return { completed: completed.map((m) => m.name), pending: pending.map((m) => m.name) };
}
