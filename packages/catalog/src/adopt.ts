import type { Knex } from 'knex';
import { TallyError } from '@tally/runtime';
import { q, type Catalog, type CatalogPart } from './catalog';
import { checkCatalog, formatReport, ALL_PARTS, type CatalogReport, type DdlStep } from './check';

/** Tally's record of the DDL `tally adopt apply` ran on the app's tables (created by migration 0007). */
export const ADOPTION_TABLE = 'tally_adopted_objects';

export interface ApplyResult {
  applied: DdlStep[];
  /** The check after applying: what still needs the app team (problems Tally never fixes itself). */
  after: CatalogReport;
}

/** Apply and rollback record their work in MYSQL_URL's database; without migration 0007 there is nowhere to record it. */
async function assertMigrated(db: Knex): Promise<void> {
  if (await db.schema.hasTable(ADOPTION_TABLE)) return;
  throw new TallyError('CATALOG_NOT_MIGRATED', `${ADOPTION_TABLE} does not exist in MYSQL_URL's database: run \`tally migrate\` first`);
}

async function objectExists(db: Knex, o: { schema: string; table: string; kind: 'column' | 'index'; name: string }): Promise<boolean> {
  const [rows] = (await db.raw(
    o.kind === 'index'
      ? 'SELECT 1 FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND INDEX_NAME = ? LIMIT 1'
      : 'SELECT 1 FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND COLUMN_NAME = ? LIMIT 1',
    [o.schema, o.table, o.name],
  )) as [unknown[]];
  return rows.length > 0;
}

/**
 * Runs exactly the additive DDL of the check (ADD COLUMN, ADD INDEX) and records each object before
 * creating it: DDL commits implicitly, so a crash between the two leaves a claim on an object that
 * does not exist yet (rollback skips it) rather than an object nobody knows Tally added. A statement
 * that fails takes its claim back, so a column the app team adds later under that name is never
 * Tally's to drop.
 *
 * Refuses (CATALOG_ADOPT_REFUSED, nothing run) while the check has any problem: the services would
 * not start anyway, and the fixes can change the DDL (a count remapped to an existing column, merged
 * history duplicates that now take a unique key).
 */
export async function applyAdoption(
  db: Knex,
  catalog: Catalog,
  parts: readonly CatalogPart[] = ALL_PARTS,
  /** `beforeStep` runs (and is awaited) before each statement is recorded and run. */
  hooks: { beforeStep?: (step: DdlStep) => unknown } = {},
): Promise<ApplyResult> {
  await assertMigrated(db);
  const before = await checkCatalog(db, catalog, parts);
  if (before.problems.length > 0) {
    const n = before.problems.length;
    throw new TallyError(
      'CATALOG_ADOPT_REFUSED',
      `nothing run: ${n} problem${n === 1 ? '' : 's'} in ${before.database} only the app team (or a mapping change) can fix, and fixing them can change the DDL:\n${formatReport({ ...before, warnings: [], ddl: [] })}`,
    );
  }
  for (const step of before.ddl) {
    const claim = { schema_name: before.database, table_name: step.table, object_kind: step.objectKind, object_name: step.objectName };
    await hooks.beforeStep?.(step);
    await db(ADOPTION_TABLE)
      .insert({ ...claim, ddl: step.sql })
      .onConflict()
      .ignore();
    try {
      await db.raw(step.sql);
    } catch (err) {
      if (!(await objectExists(db, { schema: before.database, table: step.table, kind: step.objectKind, name: step.objectName })))
        await db(ADOPTION_TABLE).where(claim).delete();
      throw err;
    }
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
  await assertMigrated(db);
  return (await db(ADOPTION_TABLE)
    .orderBy('id')
    .select('schema_name', 'table_name', 'object_kind', 'object_name', 'ddl')) as AdoptedObject[];
}

/**
 * Removes exactly what apply added, newest first (indexes before the columns they cover), and
 * nothing else; an object already gone is skipped (and its record removed). Dropping a counter
 * column drops the counts Tally kept in it: the caller says so before running this.
 */
export async function rollbackAdoption(db: Knex, hooks: { beforeDrop?: (o: AdoptedObject) => void } = {}): Promise<AdoptedObject[]> {
  const objects = (await adoptedObjects(db)).reverse();
  const removed: AdoptedObject[] = [];
  for (const o of objects) {
    if (await objectExists(db, { schema: o.schema_name, table: o.table_name, kind: o.object_kind, name: o.object_name })) {
      hooks.beforeDrop?.(o);
      await db.raw(
        `ALTER TABLE ${q(o.schema_name)}.${q(o.table_name)} DROP ${o.object_kind === 'index' ? 'INDEX' : 'COLUMN'} ${q(o.object_name)}, LOCK=NONE`,
      );
      removed.push(o);
    }
    await db(ADOPTION_TABLE)
      .where({ schema_name: o.schema_name, table_name: o.table_name, object_kind: o.object_kind, object_name: o.object_name })
      .delete();
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
  throw new TallyError(
    'CATALOG_MISMATCH',
    `the app's schema (${report.database}) does not match the catalog mapping:\n${formatReport(report)}\nrun \`tally adopt check\` for the whole report`,
    { exitCode: 2 },
  );
}
