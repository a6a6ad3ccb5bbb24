import type { Knex } from 'knex';
import { OWNERSHIP_TABLE } from '../tables';

// Identifiers and hashes that are ASCII by definition (UUIDs, Kafka topic names) use the ascii
// charset: a CHAR(36) key costs 36 bytes instead of up to 144 in utf8mb4, in every secondary index too.
// general_ci so an upper-case retry of the same UUID still collides with the original.
export const ASCII_UUID = 'CHAR(36) CHARACTER SET ascii COLLATE ascii_general_ci';
// Kafka caps topic names at 249 characters of [a-zA-Z0-9._-].
export const ASCII_TOPIC = 'VARCHAR(249) CHARACTER SET ascii COLLATE ascii_bin';

/** utf8mb4 + InnoDB on every table, whatever the server's defaults (MariaDB 10.11 still defaults to latin1 on some distros). */
export function tableDefaults(t: Knex.CreateTableBuilder): void {
  t.engine('InnoDB');
  t.charset('utf8mb4');
  t.collate('utf8mb4_unicode_ci');
}

/** DATETIME(3) in UTC (the session time zone is +00:00, see @tally/clients createMysql). */
export function datetime3(t: Knex.TableBuilder, name: string): Knex.ColumnBuilder {
  return t.datetime(name, { precision: 3 });
}

/** created_at/updated_at filled by the server, so writers that do not care get sane values. */
export function auditTimestamps(db: Knex, t: Knex.CreateTableBuilder): void {
  datetime3(t, 'created_at').notNullable().defaultTo(db.raw('CURRENT_TIMESTAMP(3)'));
  datetime3(t, 'updated_at').notNullable().defaultTo(db.raw('CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3)'));
}

type ObjectKind = 'table' | 'column' | 'index';

async function recordOwnership(db: Knex, table: string, kind: ObjectKind, name: string): Promise<void> {
  await db(OWNERSHIP_TABLE).insert({ table_name: table, object_kind: kind, object_name: name }).onConflict().ignore();
}

export async function createOwnershipRegistry(db: Knex): Promise<void> {
  if (await db.schema.hasTable(OWNERSHIP_TABLE)) return;
  await db.schema.createTable(OWNERSHIP_TABLE, (t) => {
    tableDefaults(t);
    t.string('table_name', 64).notNullable();
    t.enu('object_kind', ['table', 'column', 'index']).notNullable();
    t.string('object_name', 64).notNullable();
    datetime3(t, 'created_at').notNullable().defaultTo(db.raw('CURRENT_TIMESTAMP(3)'));
    t.primary(['table_name', 'object_kind', 'object_name']);
  });
}

/**
 * Creates a web-app table only when it is missing. Ownership is recorded BEFORE the CREATE: DDL
 * commits implicitly in MySQL/MariaDB, so a crash between the two must leave a claim on a table
 * that does not exist yet (harmless, re-run creates it) rather than our table looking foreign forever.
 */
export async function createWebAppTableIfMissing(db: Knex, table: string, build: (t: Knex.CreateTableBuilder) => void): Promise<void> {
  // Present already: either the web app's own table (leave it exactly as it is) or ours from an earlier run.
  if (await db.schema.hasTable(table)) return;
  await recordOwnership(db, table, 'table', table);
  await db.schema.createTable(table, (t) => {
    tableDefaults(t);
    build(t);
  });
}

/** Adds a column the pipeline needs to a table the web app owns, remembering that we added it. */
export async function addColumnIfMissing(db: Knex, table: string, column: string, add: (t: Knex.AlterTableBuilder) => void): Promise<void> {
  if (await db.schema.hasColumn(table, column)) return;
  await recordOwnership(db, table, 'column', column);
  await db.schema.alterTable(table, add);
}

export async function addIndexIfMissing(db: Knex, table: string, index: string, columns: string[]): Promise<void> {
  const [rows] = (await db.raw('SHOW INDEX FROM ?? WHERE Key_name = ?', [table, index])) as [unknown[]];
  if (rows.length > 0) return;
  await recordOwnership(db, table, 'index', index);
  await db.schema.alterTable(table, (t) => {
    t.index(columns, index);
  });
}

/**
 * Undoes exactly what the up migrations recorded for these tables: whole tables we created are
 * dropped; on tables the web app owns, our indexes go first (dropping an indexed column would
 * otherwise shrink a composite index instead of removing it), then our columns.
 */
export async function dropOwnedObjects(db: Knex, tables: readonly string[]): Promise<void> {
  if (!(await db.schema.hasTable(OWNERSHIP_TABLE))) return;
  for (const table of [...tables].reverse()) {
    const owned = (await db(OWNERSHIP_TABLE).where({ table_name: table })) as { object_kind: ObjectKind; object_name: string }[];
    if (owned.some((o) => o.object_kind === 'table')) {
      await db.schema.dropTableIfExists(table);
    } else if (owned.length > 0 && (await db.schema.hasTable(table))) {
      await dropOwnedParts(db, table, owned);
    }
    await db(OWNERSHIP_TABLE).where({ table_name: table }).delete();
  }
}

async function dropOwnedParts(db: Knex, table: string, owned: { object_kind: ObjectKind; object_name: string }[]): Promise<void> {
  for (const o of owned.filter((x) => x.object_kind === 'index')) {
    const [rows] = (await db.raw('SHOW INDEX FROM ?? WHERE Key_name = ?', [table, o.object_name])) as [unknown[]];
    if (rows.length > 0) await db.schema.alterTable(table, (t) => t.dropIndex([], o.object_name));
  }
  for (const o of owned.filter((x) => x.object_kind === 'column')) {
    if (await db.schema.hasColumn(table, o.object_name)) await db.schema.alterTable(table, (t) => t.dropColumn(o.object_name));
  }
}

/** Creates a Tally-owned table when missing, so a migration that died halfway can simply run again. */
export async function createTallyTable(db: Knex, table: string, build: (t: Knex.CreateTableBuilder) => void): Promise<void> {
  if (await db.schema.hasTable(table)) return;
  await db.schema.createTable(table, (t) => {
    tableDefaults(t);
    build(t);
  });
}

/** Adds a column to a Tally-owned table when missing (no ownership record: the whole table is ours), so a re-run is harmless. */
export async function addTallyColumnIfMissing(
  db: Knex,
  table: string,
  column: string,
  add: (t: Knex.AlterTableBuilder) => void,
): Promise<void> {
  if (await db.schema.hasColumn(table, column)) return;
  await db.schema.alterTable(table, add);
}
