import type { Knex } from 'knex';
import { q, type Catalog, type CatalogPart } from './catalog';
import type { LiveTable } from './introspect';
import { online } from './check-columns';
import { COUNTS_INDEX, HISTORY_UNIQUE_INDEX, type CatalogReport } from './report';

// Table-level needs beyond single columns: the indexes and keys Tally's queries rely on, and the
// values the app really stores in the columns the mapping names.

/**
 * The values a type/action column really holds against those the mapping names (case-insensitive,
 * as the usual _ci collations compare). A mapping that matches no row at all is a problem — the
 * featured cache or the backfill would silently see nothing (a Laravel app stores morph class
 * names, not `movie`); rows of other values beside matching ones are only a warning (Tally skips them).
 */
export async function checkStoredValues(
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

export function checkCountsIndex(report: CatalogReport, catalog: Catalog, table: LiveTable, qualified: string): void {
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
export function checkOnUpdate(report: CatalogReport, catalog: Catalog, table: LiveTable): void {
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
export async function checkHistoryKeys(
  db: Knex,
  report: CatalogReport,
  catalog: Catalog,
  table: LiveTable,
  qualified: string,
): Promise<void> {
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
