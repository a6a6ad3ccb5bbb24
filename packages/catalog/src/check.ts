import type { Knex } from 'knex';
import { q, type Catalog, type CatalogPart } from './catalog';
import { TallyError } from '@tally/runtime';
import { introspect, type LiveColumn, type LiveTable } from './introspect';
import { charCapacity, enumValues, KIND_TEXT, KINDS, needsOf, type ColumnNeed } from './needs';

/** The index es-sync walks with `(counts_updated_at, id) > watermark`; Tally adds it when missing. */
export const COUNTS_INDEX = 'jav_counts_updated_at_id_idx';
/** The unique key the history sink's upsert needs, when the app's table has none on (user, movie). */
export const HISTORY_UNIQUE_INDEX = 'tally_history_user_movie_unique';

export interface CatalogProblem {
  part: CatalogPart;
  table: string;
  column?: string;
  /**
   * missing_table, missing_column, type, nullable, signed, length, values, unique_key, index,
   * duplicates, insert_default; for warnings: on_update, unmapped_values.
   */
  rule: string;
  message: string;
  fix: string;
}

/** One additive DDL statement `tally adopt apply` would run. */
export interface DdlStep {
  part: CatalogPart;
  table: string;
  objectKind: 'column' | 'index';
  objectName: string;
  sql: string;
  why: string;
}

export interface CatalogReport {
  database: string;
  /** `table.column` (or `table (key)`) that exist and match. */
  matches: string[];
  /** What only the app team can fix (or a mapping change); Tally's services refuse to start while any is left. */
  problems: CatalogProblem[];
  /** Side effects the app team should know of, that do not stop Tally (not counted by `tally adopt check`'s exit code). */
  warnings: CatalogProblem[];
  ddl: DdlStep[];
}

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

/**
 * The values a type/action column really holds against those the mapping names (case-insensitive,
 * as the usual _ci collations compare). A mapping that matches no row at all is a problem — the
 * featured cache or the backfill would silently see nothing (a Laravel app stores morph class
 * names, not `movie`); rows of other values beside matching ones are only a warning (Tally skips them).
 */
async function checkStoredValues(
  db: Knex,
  report: CatalogReport,
  part: CatalogPart,
  table: LiveTable,
  qualified: string,
  column: string,
  mapped: string[],
  path: string,
): Promise<void> {
  if (!table.columns.has(column)) return;
  const [rows] = (await db.raw(
    `SELECT ${q(column)} AS v, COUNT(*) AS n FROM ${qualified} WHERE ${q(column)} IS NOT NULL GROUP BY ${q(column)} ORDER BY COUNT(*) DESC, ${q(column)}`,
  )) as [{ v: unknown; n: number | string }[]];
  const known = new Set(mapped.map((v) => v.toLowerCase()));
  const other = rows.filter((r) => !known.has(String(r.v).toLowerCase()));
  if (other.length === 0) return;
  const listed =
    other
      .slice(0, 10)
      .map((r) => `'${String(r.v)}' (${Number(r.n)} row${Number(r.n) === 1 ? '' : 's'})`)
      .join(', ') + (other.length > 10 ? `, and ${other.length - 10} more` : '');
  const at = `${table.name}.${column}`;
  if (other.length === rows.length) {
    report.problems.push({
      part,
      table: table.name,
      column,
      rule: 'values',
      message: `${at} holds none of the values ${path} names (${mapped.map((v) => `'${v}'`).join(', ')}), only ${listed}`,
      fix: `set ${path} to the values the app stores`,
    });
  } else {
    report.warnings.push({
      part,
      table: table.name,
      column,
      rule: 'unmapped_values',
      message: `${at} also holds values ${path} does not name: ${listed}`,
      fix: 'Tally leaves those rows out',
    });
  }
}

/**
 * ADD COLUMN/ADD INDEX with LOCK=NONE: the server does it instantly or online, or refuses at once
 * (naming why) instead of locking the app's table for the length of a copy.
 */
const online = (sql: string) => `${sql}, LOCK=NONE`;

function checkColumn(report: CatalogReport, table: LiveTable, need: ColumnNeed, qualified: string): void {
  const live = table.columns.get(need.column);
  const at = `${table.name}.${need.column}`;
  if (!live && need.add) {
    report.ddl.push({
      part: need.part,
      table: table.name,
      objectKind: 'column',
      objectName: need.column,
      sql: online(`ALTER TABLE ${qualified} ADD COLUMN ${q(need.column)} ${need.add}`),
      why: `${need.path} is written by Tally`,
    });
    return;
  }
  const issue = live
    ? columnIssue(table, need, live, qualified)
    : {
        rule: 'missing_column',
        message: 'does not exist',
        fix: `map ${need.path} to the app's column${need.optional ? ', or to null' : ''}`,
      };
  if (issue)
    report.problems.push({
      part: need.part,
      table: table.name,
      column: need.column,
      rule: issue.rule,
      message: `${at} (${need.path}) ${issue.message}`,
      fix: issue.fix,
    });
  else report.matches.push(`${at} (${need.path}, ${live!.columnType})`);
}

/** The first way an existing column falls short of what Tally needs of it, or null. */
function columnIssue(
  table: LiveTable,
  need: ColumnNeed,
  live: LiveColumn,
  qualified: string,
): { rule: string; message: string; fix: string } | null {
  const col = q(need.column);
  if (!KINDS[need.kind].includes(live.dataType)) {
    return {
      rule: 'type',
      message: `is ${live.columnType}, Tally needs ${KIND_TEXT[need.kind]}`,
      fix: `map ${need.path} to a column of ${KIND_TEXT[need.kind]}`,
    };
  }
  if (need.notNull && live.nullable) {
    return {
      rule: 'nullable',
      message: 'allows NULL: Tally adds to it, and NULL + 1 stays NULL',
      fix: `in the app: UPDATE ${qualified} SET ${col} = 0 WHERE ${col} IS NULL, then ALTER TABLE ${qualified} MODIFY ${col} ${live.columnType} NOT NULL DEFAULT 0 (Tally never rewrites an app column)`,
    };
  }
  if (need.signed && live.columnType.includes('unsigned')) {
    return {
      rule: 'signed',
      message: `is ${live.columnType}: Tally adds negative deltas (unlikes), and a sum below 0 fails the whole flush on every retry`,
      fix: `in the app: ALTER TABLE ${qualified} MODIFY ${col} ${live.columnType.replace(/\s*unsigned/, '')} NOT NULL DEFAULT 0, or map ${need.path} to a new column (Tally adds it)`,
    };
  }
  const capacity = charCapacity(live.columnType, live.dataType);
  if (need.minChars !== undefined && capacity < need.minChars) {
    return {
      rule: 'length',
      message: `holds ${capacity} characters, Tally writes up to ${need.minChars}`,
      fix: `widen it in the app to VARCHAR(${need.minChars}), or map ${need.path} to null`,
    };
  }
  const allowed = enumValues(live.columnType);
  const absent = need.values && allowed ? need.values.filter((v) => !allowed.some((a) => a.toLowerCase() === v.toLowerCase())) : [];
  if (absent.length > 0) {
    return {
      rule: 'values',
      message: `is ${live.columnType} and cannot hold ${absent.map((v) => `'${v}'`).join(', ')}: no row would ever match`,
      fix: `set ${need.valuesPath ?? need.path} to the values the app stores, or add them to the ENUM in the app`,
    };
  }
  if (need.unique && !table.indexes.some((i) => i.unique && i.columns.length === 1 && i.columns[0] === need.column)) {
    return {
      rule: 'unique_key',
      message: 'is not a primary or unique key by itself: Tally addresses one row by it',
      fix: `map ${need.path} to the app's primary key`,
    };
  }
  return null;
}

function checkCountsIndex(report: CatalogReport, catalog: Catalog, table: LiveTable, qualified: string): void {
  const m = catalog.mapping.movies;
  // es-sync names it in FORCE INDEX: an equal index under another name does not do.
  const idx = table.indexes.find((i) => i.name === COUNTS_INDEX);
  const want = [m.countsUpdatedAt, m.id];
  if (!idx) {
    report.ddl.push({
      part: 'movies',
      table: table.name,
      objectKind: 'index',
      objectName: COUNTS_INDEX,
      sql: online(`ALTER TABLE ${qualified} ADD INDEX ${q(COUNTS_INDEX)} (${want.map(q).join(', ')})`),
      why: 'es-sync reads changed counts in (countsUpdatedAt, id) order',
    });
  } else if (idx.columns.join(',') !== want.join(',')) {
    report.problems.push({
      part: 'movies',
      table: table.name,
      rule: 'index',
      message: `${table.name} has an index ${COUNTS_INDEX} on (${idx.columns.join(', ')}), Tally needs it on (${want.join(', ')})`,
      fix: `rename the app's index ${COUNTS_INDEX}`,
    });
  } else {
    report.matches.push(`${table.name} (${want.join(', ')}) index ${COUNTS_INDEX}`);
  }
}

/** The flusher UPDATEs every movie whose counts changed (each one, every 5 minutes): ON UPDATE columns move with it. */
function checkOnUpdate(report: CatalogReport, catalog: Catalog, table: LiveTable): void {
  const m = catalog.mapping.movies;
  for (const col of table.columns.values()) {
    if (!col.onUpdate || col.name === m.countsUpdatedAt) continue;
    report.warnings.push({
      part: 'movies',
      table: table.name,
      column: col.name,
      rule: 'on_update',
      message: `${table.name}.${col.name} is ON UPDATE CURRENT_TIMESTAMP: every flush that changes a movie's counts rewrites it`,
      fix: `if the app reads ${col.name} as "last edited", drop its ON UPDATE in the app (Laravel sets updated_at itself)`,
    });
  }
}

/**
 * The history sink upserts (INSERT … ON DUPLICATE KEY UPDATE) one row per (user, movie), setting only
 * the mapped columns: it needs a unique key on exactly that pair, no other unique key a fresh row can
 * collide on (the upsert would then update that other row), and a default for every other NOT NULL column.
 */
async function checkHistoryKeys(db: Knex, report: CatalogReport, catalog: Catalog, table: LiveTable, qualified: string): Promise<void> {
  const h = catalog.mapping.history;
  const pair = [h.user, h.movie].sort().join(',');
  const written = new Set([h.user, h.movie, ...Object.values(h.columns).filter((c): c is string => c !== null)]);
  const unique = table.indexes.find((i) => i.unique && [...i.columns].sort().join(',') === pair);
  if (unique) {
    report.matches.push(`${table.name} unique key ${unique.name} (${unique.columns.join(', ')})`);
  } else if (table.columns.has(h.user) && table.columns.has(h.movie)) {
    const [[row]] = (await db.raw(
      `SELECT COUNT(*) AS n FROM (SELECT 1 FROM ${qualified} GROUP BY ${q(h.user)}, ${q(h.movie)} HAVING COUNT(*) > 1) d`,
    )) as [[{ n: number | string }]];
    const dups = Number(row?.n ?? 0);
    if (dups > 0) {
      report.problems.push({
        part: 'history',
        table: table.name,
        rule: 'duplicates',
        message: `${table.name} has no unique key on (${h.user}, ${h.movie}) and ${dups} pairs occur more than once`,
        fix: `merge the duplicate rows in the app, then run tally adopt apply (it adds UNIQUE ${HISTORY_UNIQUE_INDEX})`,
      });
    } else {
      report.ddl.push({
        part: 'history',
        table: table.name,
        objectKind: 'index',
        objectName: HISTORY_UNIQUE_INDEX,
        sql: online(`ALTER TABLE ${qualified} ADD UNIQUE INDEX ${q(HISTORY_UNIQUE_INDEX)} (${q(h.user)}, ${q(h.movie)})`),
        why: 'the history sink upserts one row per (user, movie)',
      });
    }
  }
  for (const idx of table.indexes) {
    if (!idx.unique || idx === unique || (idx.columns.includes(h.user) && idx.columns.includes(h.movie))) continue;
    // Unique whatever the sink writes: an auto-increment column, or one it leaves NULL (NULLs never collide).
    const harmless = idx.columns.some((name) => {
      const col = table.columns.get(name);
      return col !== undefined && (col.autoIncrement || col.generated || (!written.has(name) && col.defaultsToNull));
    });
    if (harmless) continue;
    report.problems.push({
      part: 'history',
      table: table.name,
      rule: 'unique_key',
      message: `${table.name} has a unique key ${idx.name} (${idx.columns.join(', ')}) that a new (user, movie) row can collide on: the history sink's upsert would then update that other row`,
      fix: `make ${idx.name} non-unique in the app, or let its columns default to NULL`,
    });
  }
  for (const col of table.columns.values()) {
    if (written.has(col.name) || col.nullable || col.hasDefault || col.autoIncrement || col.generated) continue;
    report.problems.push({
      part: 'history',
      table: table.name,
      column: col.name,
      rule: 'insert_default',
      message: `${table.name}.${col.name} is NOT NULL without a default: the history sink's inserts would fail`,
      fix: `give ${table.name}.${col.name} a default in the app, or map a history column to it`,
    });
  }
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
