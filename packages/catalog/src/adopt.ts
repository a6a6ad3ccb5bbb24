import type { Knex } from 'knex';
import { TallyError } from '@tally/runtime';
import type { Catalog, CatalogPart } from './catalog';
import { checkCatalog, formatReport, ALL_PARTS, type CatalogReport, type DdlStep } from './check';

/** Tally's record of the DDL `tally adopt apply` ran on the app's tables (created by migration 0007). */
export const ADOPTION_TABLE = 'tally_adopted_objects';

export interface ApplyResult {
  applied: DdlStep[];
  /** The check after applying: what still needs the app team (problems Tally never fixes itself). */
  after: CatalogReport;
}

/**
 * Runs exactly the additive DDL of the check (ADD COLUMN, ADD INDEX) and records each object before
 * creating it: DDL commits implicitly, so a crash between the two leaves a claim on an object that
 * does not exist yet (rollback skips it) rather than an object nobody knows Tally added.
 */
export async function applyAdoption(db: Knex, catalog: Catalog, parts: readonly CatalogPart[] = ALL_PARTS): Promise<ApplyResult> {
  const before = await checkCatalog(db, catalog, parts);
  for (const step of before.ddl) {
    await db(ADOPTION_TABLE)
      .insert({ schema_name: before.database, table_name: step.table, object_kind: step.objectKind, object_name: step.objectName, ddl: step.sql })
      .onConflict()
      .ignore();
    await db.raw(step.sql);
  }
  return { applied: before.ddl, after: await checkCatalog(db, catalog, parts) };
}

export interface AdoptedObject {
  schema_name: string;
  table_name: string;
  object_kind: 'column' | 'index';
  object_name: string;
  ddl: string;
}

/** What apply added, in the order it added it. */
export async function adoptedObjects(db: Knex): Promise<AdoptedObject[]> {
  return (await db(ADOPTION_TABLE).orderBy('id')) as AdoptedObject[];
}

/**
 * Removes exactly what apply added, newest first (indexes before the columns they cover), and
 * nothing else; an object already gone is skipped. Dropping a counter column drops the counts Tally
 * kept in it: the caller says so before running this.
 */
export async function rollbackAdoption(db: Knex): Promise<AdoptedObject[]> {
  const objects = (await adoptedObjects(db)).reverse();
  const removed: AdoptedObject[] = [];
  for (const o of objects) {
    const at = `\`${o.schema_name}\`.\`${o.table_name}\``;
    const [rows] = (await db.raw(
      o.object_kind === 'index'
        ? 'SELECT 1 FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND INDEX_NAME = ? LIMIT 1'
        : 'SELECT 1 FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND COLUMN_NAME = ? LIMIT 1',
      [o.schema_name, o.table_name, o.object_name],
    )) as [unknown[]];
    if (rows.length > 0) {
      await db.raw(`ALTER TABLE ${at} DROP ${o.object_kind === 'index' ? 'INDEX' : 'COLUMN'} \`${o.object_name}\``);
      removed.push(o);
    }
    await db(ADOPTION_TABLE).where({ schema_name: o.schema_name, table_name: o.table_name, object_kind: o.object_kind, object_name: o.object_name }).delete();
  }
  return removed;
}

/**
 * For a service's start: the parts it reads or writes must match the live schema. Anything missing or
 * incompatible stops the service with the same words `tally adopt check` prints (not retriable: the
 * schema will not fix itself).
 */
export async function assertCatalog(db: Knex, catalog: Catalog, parts: readonly CatalogPart[]): Promise<void> {
  const report = await checkCatalog(db, catalog, parts);
  if (report.problems.length === 0 && report.ddl.length === 0) return;
  throw new TallyError('CATALOG_MISMATCH', `the app's schema (${report.database}) does not match the catalog mapping:\n${formatReport(report)}\nrun \`tally adopt check\` for the whole report`, { exitCode: 2 });
}
