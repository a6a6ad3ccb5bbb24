import type { Knex } from 'knex';

/** What information_schema says about one column. */
export interface LiveColumn {
  name: string;
  /** DATA_TYPE, lower case: `bigint`, `varchar`, `datetime`, … */
  dataType: string;
  /** COLUMN_TYPE: `bigint(20) unsigned`, `enum('movie','actor')`, … */
  columnType: string;
  nullable: boolean;
  hasDefault: boolean;
  autoIncrement: boolean;
  generated: boolean;
  /** An insert that leaves it out stores NULL (nullable, and no default or DEFAULT NULL). */
  defaultsToNull: boolean;
  /** ON UPDATE CURRENT_TIMESTAMP: any UPDATE of the row, Tally's too, rewrites it. */
  onUpdate: boolean;
}

export interface LiveIndex {
  name: string;
  unique: boolean;
  columns: string[];
}

export interface LiveTable {
  name: string;
  columns: Map<string, LiveColumn>;
  indexes: LiveIndex[];
}

/**
 * Tables of one schema as they are now, read-only (information_schema: no lock on the tables
 * themselves). `databaseExists` tells a misspelt `mapping.database` from a database without the tables.
 */
export async function introspect(
  db: Knex,
  database: string | null,
  tables: readonly string[],
): Promise<{ database: string; databaseExists: boolean; tables: Map<string, LiveTable> }> {
  const [[{ db: current }]] = (await db.raw('SELECT DATABASE() AS db')) as [[{ db: string }]];
  const schema = database ?? current;
  const [found] = (await db.raw('SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [schema])) as [unknown[]];
  const databaseExists = found.length > 0;
  const out = new Map<string, LiveTable>();
  if (tables.length === 0 || !databaseExists) return { database: schema, databaseExists, tables: out };
  const names = [...new Set(tables)];
  const marks = names.map(() => '?').join(', ');
  const [cols] = (await db.raw(
    `SELECT TABLE_NAME AS t, COLUMN_NAME AS c, DATA_TYPE AS dt, COLUMN_TYPE AS ct, IS_NULLABLE AS n, COLUMN_DEFAULT AS d, EXTRA AS x
       FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME IN (${marks}) ORDER BY TABLE_NAME, ORDINAL_POSITION`,
    [schema, ...names],
  )) as [{ t: string; c: string; dt: string; ct: string; n: string; d: string | null; x: string }[]];
  for (const r of cols) {
    let table = out.get(r.t);
    if (!table) out.set(r.t, (table = { name: r.t, columns: new Map(), indexes: [] }));
    const extra = String(r.x ?? '').toLowerCase();
    table.columns.set(r.c, {
      name: r.c,
      dataType: String(r.dt).toLowerCase(),
      columnType: String(r.ct).toLowerCase(),
      nullable: r.n === 'YES',
      // MariaDB reports an explicit DEFAULT NULL as the string 'NULL' and no default as SQL NULL.
      hasDefault: r.d !== null,
      autoIncrement: extra.includes('auto_increment'),
      generated: extra.includes('generated') || extra.includes('virtual') || extra.includes('persistent') || extra.includes('stored'),
      // MySQL: no default = SQL NULL; MariaDB: 'NULL' for DEFAULT NULL (a string default 'NULL' is quoted, "'NULL'").
      defaultsToNull: r.n === 'YES' && (r.d === null || r.d === 'NULL'),
      onUpdate: extra.includes('on update'),
    });
  }
  const [idx] = (await db.raw(
    `SELECT TABLE_NAME AS t, INDEX_NAME AS i, NON_UNIQUE AS nu, COLUMN_NAME AS c FROM information_schema.STATISTICS
      WHERE TABLE_SCHEMA = ? AND TABLE_NAME IN (${marks}) ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX`,
    [schema, ...names],
  )) as [{ t: string; i: string; nu: number | string; c: string }[]];
  for (const r of idx) {
    const table = out.get(r.t);
    if (!table) continue;
    let index = table.indexes.find((i) => i.name === r.i);
    if (!index) table.indexes.push((index = { name: r.i, unique: Number(r.nu) === 0, columns: [] }));
    index.columns.push(r.c);
  }
  return { database: schema, databaseExists, tables: out };
}
