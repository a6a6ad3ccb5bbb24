import type { Knex } from 'knex';
import { migrationSource } from './migrations';
import { MIGRATIONS_TABLE } from './tables';

const config: Knex.MigratorConfig = {
  migrationSource: migrationSource as Knex.MigrationSource<unknown>,
  tableName: MIGRATIONS_TABLE,
  // MySQL and MariaDB commit implicitly before and after every DDL statement, so a wrapping
  // transaction would promise an atomicity it cannot give; each migration is re-runnable instead.
  disableTransactions: true,
};

export interface MigrationStatus {
  completed: string[];
  pending: string[];
}

/** Applies every pending migration; returns the names it applied (empty when already up to date). */
export async function migrateLatest(db: Knex): Promise<string[]> {
  const [, applied] = (await db.migrate.latest(config)) as [number, string[]];
  return applied;
}

/**
 * Rolls back every applied migration and removes knex's own log tables, leaving the database as it
 * was before the first migrateLatest (web-app tables that existed then are untouched).
 */
export async function migrateRollbackAll(db: Knex): Promise<string[]> {
  const [, reverted] = (await db.migrate.rollback(config, true)) as [number, string[]];
  await db.schema.dropTableIfExists(MIGRATIONS_TABLE);
  await db.schema.dropTableIfExists(`${MIGRATIONS_TABLE}_lock`);
  return reverted;
}

export async function migrationStatus(db: Knex): Promise<MigrationStatus> {
  const [completed, pending] = (await db.migrate.list(config)) as [{ name: string }[], { name: string }[]];
  return { completed: completed.map((m) => m.name), pending: pending.map((m) => m.name) };
}
