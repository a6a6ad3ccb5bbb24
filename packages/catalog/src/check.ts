import type { Knex } from 'knex';
import { q, type Catalog, type CatalogPart } from './catalog';
import { TallyError } from '@tally/runtime';
import { introspect } from './introspect';
import { needsOf } from './needs';
import type { CatalogReport } from './report';
import { checkColumn } from './check-columns';
import { checkCountsIndex, checkHistoryKeys, checkOnUpdate, checkStoredValues } from './check-keys';

export { COUNTS_INDEX, HISTORY_UNIQUE_INDEX, type CatalogProblem, type CatalogReport, type DdlStep } from './report';

export const ALL_PARTS: readonly CatalogPart[] = [
  'movies',
  'actors',
  'tags',
  'movieActors',
  'movieTags',
  'users',
  'featured',
  'history',
  'interactions',
  'watchlists',
];

/**
 * Compares the mapping with the live schema, read-only: what exists and matches, what is missing or
 * incompatible, and the additive DDL (new columns and indexes only) that would close the gaps Tally
 * may close itself. Nothing here writes. A `mapping.database` that does not exist is a configuration
 * error (CATALOG_MAPPING_INVALID), not ten missing tables.
 */
export async function checkCatalog(db: Knex, catalog: Catalog, parts: readonly CatalogPart[] = ALL_PARTS): Promise<CatalogReport> {
  const tables = parts.map((p) => catalog.mapping[p].table);
  const live = await introspect(db, catalog.mapping.database, tables);
  if (!live.databaseExists) {
    throw new TallyError(
      'CATALOG_MAPPING_INVALID',
      `mapping.database: database ${live.database} does not exist on MYSQL_URL's server (the app's tables must be on the same server)`,
    );
  }
  const report: CatalogReport = { database: live.database, matches: [], problems: [], warnings: [], ddl: [] };
  const where = (table: string) => `${q(live.database)}.${q(table)}`;
  for (const part of parts) {
    const tableName = catalog.mapping[part].table;
    const table = live.tables.get(tableName);
    if (!table) {
      report.problems.push({
        part,
        table: tableName,
        rule: 'missing_table',
        message: `table ${live.database}.${tableName} (${part}.table) does not exist`,
        fix: `map ${part}.table to the app's table`,
      });
      continue;
    }
    for (const need of needsOf(catalog, part)) checkColumn(report, table, need, where(tableName));
    if (part === 'movies') {
      checkCountsIndex(report, catalog, table, where(tableName));
      checkOnUpdate(report, catalog, table);
    }
    if (part === 'history') await checkHistoryKeys(db, report, catalog, table, where(tableName));
    if (part === 'featured')
      await checkStoredValues(
        db,
        report,
        part,
        table,
        where(tableName),
        catalog.mapping.featured.itemType,
        Object.values(catalog.mapping.featured.itemTypes),
        'featured.itemTypes',
      );
    const shape = catalog.mapping.interactions.shape;
    if (part === 'interactions' && shape.kind === 'actions')
      await checkStoredValues(
        db,
        report,
        part,
        table,
        where(tableName),
        shape.action,
        [shape.like, shape.rate],
        'interactions.shape.like/rate',
      );
  }
  return report;
}

/** The report as text, one line per finding (what `tally adopt check` prints and services exit with). */
export function formatReport(r: CatalogReport, opts: { matches?: boolean } = {}): string {
  const lines: string[] = [];
  if (opts.matches) for (const m of r.matches) lines.push(`ok       ${m}`);
  for (const p of r.problems) lines.push(`problem  ${p.message}; fix: ${p.fix}`);
  for (const w of r.warnings) lines.push(`warning  ${w.message}; ${w.fix}`);
  for (const d of r.ddl) lines.push(`missing  ${d.table}.${d.objectName} (${d.why}); tally adopt apply runs: ${d.sql}`);
  return lines.join('\n');
}
