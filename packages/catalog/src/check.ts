import type { Knex } from 'knex';
import { q, type Catalog, type CatalogPart } from './catalog';
import { introspect, type LiveTable } from './introspect';

/** The index es-sync walks with `(counts_updated_at, id) > watermark`; Tally adds it when missing. */
export const COUNTS_INDEX = 'jav_counts_updated_at_id_idx';
/** The unique key the history sink's upsert needs, when the app's table has none on (user, movie). */
export const HISTORY_UNIQUE_INDEX = 'tally_history_user_movie_unique';

type Kind = 'integer' | 'flag' | 'number' | 'string' | 'time' | 'date';

const KINDS: Record<Kind, readonly string[]> = {
  integer: ['tinyint', 'smallint', 'mediumint', 'int', 'bigint'],
  flag: ['tinyint', 'smallint', 'mediumint', 'int', 'bigint', 'bit', 'boolean'],
  number: ['tinyint', 'smallint', 'mediumint', 'int', 'bigint', 'decimal', 'float', 'double'],
  string: ['char', 'varchar', 'tinytext', 'text', 'mediumtext', 'longtext', 'enum'],
  time: ['datetime', 'timestamp'],
  date: ['date', 'datetime', 'timestamp', 'char', 'varchar'],
};

const KIND_TEXT: Record<Kind, string> = {
  integer: 'an integer type',
  flag: 'a boolean/integer type',
  number: 'a numeric type',
  string: 'a string type',
  time: 'DATETIME or TIMESTAMP',
  date: 'DATE, DATETIME, TIMESTAMP or a string',
};

/** One column Tally relies on: where the mapping names it, what it must be, and what Tally adds when it is missing. */
interface ColumnNeed {
  part: CatalogPart;
  /** The mapping path that names it, e.g. `movies.counts.likes`. */
  path: string;
  column: string;
  kind: Kind;
  /** Tally adds to it (`x = x + delta`): NULL would stay NULL. */
  notNull?: boolean;
  /** Column definition Tally adds when the column is missing; absent = the app must have it. */
  add?: string;
}

export interface CatalogProblem {
  part: CatalogPart;
  table: string;
  column?: string;
  /** missing_table, missing_column, type, nullable, unique_key, duplicates, insert_default. */
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
  problems: CatalogProblem[];
  ddl: DdlStep[];
}

export const ALL_PARTS: readonly CatalogPart[] = ['movies', 'actors', 'tags', 'movieActors', 'movieTags', 'users', 'featured', 'history', 'interactions', 'watchlists'];

function needsOf(c: Catalog, part: CatalogPart): ColumnNeed[] {
  const m = c.mapping;
  const n = (path: string, column: string | null, kind: Kind, more: Partial<ColumnNeed> = {}): ColumnNeed[] => (column === null ? [] : [{ part, path, column, kind, ...more }]);
  switch (part) {
    case 'movies': {
      const mv = m.movies;
      const count = (metric: 'views' | 'downloads' | 'likes') => n(`movies.counts.${metric}`, mv.counts[metric], 'integer', { notNull: true, add: 'BIGINT NOT NULL DEFAULT 0' });
      return [
        ...n('movies.id', mv.id, 'integer'),
        ...n('movies.display.code', mv.display.code, 'string'),
        ...n('movies.display.title', mv.display.title, 'string'),
        ...n('movies.display.provider', mv.display.provider, 'string'),
        ...n('movies.display.release_date', mv.display.release_date, 'date'),
        ...count('views'),
        ...count('downloads'),
        ...count('likes'),
        ...n('movies.countsUpdatedAt', mv.countsUpdatedAt, 'time', { add: 'DATETIME(3) NULL' }),
      ];
    }
    case 'actors':
    case 'tags':
      return [...n(`${part}.id`, m[part].id, 'integer'), ...n(`${part}.name`, m[part].name, 'string')];
    case 'movieActors':
      return [...n('movieActors.movie', m.movieActors.movie, 'integer'), ...n('movieActors.actor', m.movieActors.actor, 'integer')];
    case 'movieTags':
      return [...n('movieTags.movie', m.movieTags.movie, 'integer'), ...n('movieTags.tag', m.movieTags.tag, 'integer')];
    case 'users':
      return n('users.id', m.users.id, 'integer');
    case 'featured': {
      const f = m.featured;
      return [
        ...n('featured.id', f.id, 'integer'),
        ...n('featured.itemType', f.itemType, 'string'),
        ...n('featured.itemId', f.itemId, 'integer'),
        ...n('featured.group', f.group, 'string'),
        ...n('featured.rank', f.rank, 'number'),
        ...n('featured.active', f.active, 'flag'),
        ...n('featured.expiresAt', f.expiresAt, 'time'),
      ];
    }
    case 'history': {
      const h = m.history;
      const col = h.columns;
      return [
        ...n('history.user', h.user, 'integer'),
        ...n('history.movie', h.movie, 'integer'),
        ...n('history.columns.viewCount', col.viewCount, 'integer', { notNull: true, add: 'INT UNSIGNED NOT NULL DEFAULT 0' }),
        ...n('history.columns.firstViewedAt', col.firstViewedAt, 'time', { add: 'DATETIME(3) NULL' }),
        ...n('history.columns.lastViewedAt', col.lastViewedAt, 'time', { add: 'DATETIME(3) NULL' }),
        ...n('history.columns.ip', col.ip, 'string', { add: 'VARCHAR(45) NULL' }),
        ...n('history.columns.userAgent', col.userAgent, 'string', { add: 'VARCHAR(512) NULL' }),
        ...n('history.columns.downloaded', col.downloaded, 'flag', { notNull: true, add: 'TINYINT(1) NOT NULL DEFAULT 0' }),
        ...n('history.columns.downloadCount', col.downloadCount, 'integer', { notNull: true, add: 'INT UNSIGNED NOT NULL DEFAULT 0' }),
        ...n('history.columns.lastDownloadedAt', col.lastDownloadedAt, 'time', { add: 'DATETIME(3) NULL' }),
      ];
    }
    case 'interactions': {
      const i = m.interactions;
      const shape =
        i.shape.kind === 'columns'
          ? [...n('interactions.shape.liked', i.shape.liked, 'flag'), ...n('interactions.shape.rating', i.shape.rating, 'number')]
          : [...n('interactions.shape.action', i.shape.action, 'string'), ...n('interactions.shape.value', i.shape.value, 'number')];
      return [...n('interactions.user', i.user, 'integer'), ...n('interactions.movie', i.movie, 'integer'), ...shape, ...n('interactions.changedAt', i.changedAt, 'time')];
    }
    case 'watchlists':
      return [...n('watchlists.user', m.watchlists.user, 'integer'), ...n('watchlists.movie', m.watchlists.movie, 'integer')];
  }
}

/**
 * Compares the mapping with the live schema, read-only: what exists and matches, what is missing or
 * incompatible, and the additive DDL (new columns and indexes only) that would close the gaps Tally
 * may close itself. Nothing here writes.
 */
export async function checkCatalog(db: Knex, catalog: Catalog, parts: readonly CatalogPart[] = ALL_PARTS): Promise<CatalogReport> {
  const tables = parts.map((p) => catalog.mapping[p].table);
  const live = await introspect(db, catalog.mapping.database, tables);
  const report: CatalogReport = { database: live.database, matches: [], problems: [], ddl: [] };
  const where = (table: string) => `${q(live.database)}.${q(table)}`;
  for (const part of parts) {
    const tableName = catalog.mapping[part].table;
    const table = live.tables.get(tableName);
    if (!table) {
      report.problems.push({ part, table: tableName, rule: 'missing_table', message: `table ${live.database}.${tableName} (${part}.table) does not exist`, fix: `create it in the app, or map ${part}.table to the app's table` });
      continue;
    }
    for (const need of needsOf(catalog, part)) checkColumn(report, table, need, where(tableName));
    if (part === 'movies') checkCountsIndex(report, catalog, table, where(tableName));
    if (part === 'history') await checkHistoryKey(db, report, catalog, table, where(tableName));
  }
  return report;
}

function checkColumn(report: CatalogReport, table: LiveTable, need: ColumnNeed, qualified: string): void {
  const live = table.columns.get(need.column);
  const at = `${table.name}.${need.column}`;
  if (!live) {
    if (need.add) {
      report.ddl.push({ part: need.part, table: table.name, objectKind: 'column', objectName: need.column, sql: `ALTER TABLE ${qualified} ADD COLUMN ${q(need.column)} ${need.add}`, why: `${need.path} is written by Tally` });
    } else {
      report.problems.push({ part: need.part, table: table.name, column: need.column, rule: 'missing_column', message: `${at} (${need.path}) does not exist`, fix: `map ${need.path} to the app's column${need.path.includes('display.provider') || need.path.includes('display.release_date') || need.path.startsWith('featured.active') || need.path.startsWith('featured.expiresAt') ? ', or to null' : ''}` });
    }
    return;
  }
  if (!KINDS[need.kind].includes(live.dataType)) {
    report.problems.push({ part: need.part, table: table.name, column: need.column, rule: 'type', message: `${at} (${need.path}) is ${live.columnType}, Tally needs ${KIND_TEXT[need.kind]}`, fix: `map ${need.path} to a column of ${KIND_TEXT[need.kind]}` });
    return;
  }
  if (need.notNull && live.nullable) {
    report.problems.push({
      part: need.part, table: table.name, column: need.column, rule: 'nullable',
      message: `${at} (${need.path}) allows NULL: Tally adds to it, and NULL + 1 stays NULL`,
      fix: `in the app: UPDATE ${qualified} SET ${q(need.column)} = 0 WHERE ${q(need.column)} IS NULL, then ALTER TABLE ${qualified} MODIFY ${q(need.column)} ${live.columnType} NOT NULL DEFAULT 0 (Tally never rewrites an app column)`,
    });
    return;
  }
  report.matches.push(`${at} (${need.path}, ${live.columnType})`);
}

function checkCountsIndex(report: CatalogReport, catalog: Catalog, table: LiveTable, qualified: string): void {
  const m = catalog.mapping.movies;
  const idx = table.indexes.find((i) => i.name === COUNTS_INDEX);
  const want = [m.countsUpdatedAt, m.id];
  if (!idx) {
    report.ddl.push({ part: 'movies', table: table.name, objectKind: 'index', objectName: COUNTS_INDEX, sql: `ALTER TABLE ${qualified} ADD INDEX ${q(COUNTS_INDEX)} (${want.map(q).join(', ')})`, why: 'es-sync reads changed counts in (countsUpdatedAt, id) order' });
  } else if (idx.columns.join(',') !== want.join(',')) {
    report.problems.push({ part: 'movies', table: table.name, rule: 'index', message: `${table.name} has an index ${COUNTS_INDEX} on (${idx.columns.join(', ')}), Tally needs it on (${want.join(', ')})`, fix: `rename the app's index ${COUNTS_INDEX}` });
  } else {
    report.matches.push(`${table.name} (${want.join(', ')}) index ${COUNTS_INDEX}`);
  }
}

async function checkHistoryKey(db: Knex, report: CatalogReport, catalog: Catalog, table: LiveTable, qualified: string): Promise<void> {
  const h = catalog.mapping.history;
  const key = [h.user, h.movie].sort().join(',');
  const unique = table.indexes.find((i) => i.unique && [...i.columns].sort().join(',') === key);
  if (unique) {
    report.matches.push(`${table.name} unique key ${unique.name} (${unique.columns.join(', ')})`);
  } else if (table.columns.has(h.user) && table.columns.has(h.movie)) {
    const [[row]] = (await db.raw(`SELECT COUNT(*) AS n FROM (SELECT 1 FROM ${qualified} GROUP BY ${q(h.user)}, ${q(h.movie)} HAVING COUNT(*) > 1) d`)) as [[{ n: number | string }]];
    const dups = Number(row?.n ?? 0);
    if (dups > 0) {
      report.problems.push({ part: 'history', table: table.name, rule: 'duplicates', message: `${table.name} has no unique key on (${h.user}, ${h.movie}) and ${dups} pairs occur more than once`, fix: `merge the duplicate rows in the app, then run tally adopt apply (it adds UNIQUE ${HISTORY_UNIQUE_INDEX})` });
    } else {
      report.ddl.push({ part: 'history', table: table.name, objectKind: 'index', objectName: HISTORY_UNIQUE_INDEX, sql: `ALTER TABLE ${qualified} ADD UNIQUE INDEX ${q(HISTORY_UNIQUE_INDEX)} (${q(h.user)}, ${q(h.movie)})`, why: 'the history sink upserts one row per (user, movie)' });
    }
  }
  // Rows the sink inserts set only the mapped columns: every other NOT NULL column needs a default.
  const written = new Set([h.user, h.movie, ...Object.values(h.columns).filter((c): c is string => c !== null)]);
  for (const col of table.columns.values()) {
    if (written.has(col.name) || col.nullable || col.hasDefault || col.autoIncrement || col.generated) continue;
    report.problems.push({ part: 'history', table: table.name, column: col.name, rule: 'insert_default', message: `${table.name}.${col.name} is NOT NULL without a default: the history sink's inserts would fail`, fix: `give ${table.name}.${col.name} a default in the app, or map a history column to it` });
  }
}

/** The report as text, one line per finding (what `tally adopt check` prints and services exit with). */
export function formatReport(r: CatalogReport, opts: { matches?: boolean } = {}): string {
  const lines: string[] = [];
  if (opts.matches) for (const m of r.matches) lines.push(`ok       ${m}`);
  for (const p of r.problems) lines.push(`problem  ${p.message}; fix: ${p.fix}`);
  for (const d of r.ddl) lines.push(`missing  ${d.table}.${d.objectName} (${d.why}); tally adopt apply runs: ${d.sql}`);
  return lines.join('\n');
}
