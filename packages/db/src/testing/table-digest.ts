import { createHash } from 'node:crypto';
import type { Knex } from 'knex';

/** Primary-key columns in key order, so a table's rows can be read in a stable order. */
async function primaryKey(db: Knex, table: string): Promise<string[]> {
  const [rows] = (await db.raw("SHOW KEYS FROM ?? WHERE Key_name = 'PRIMARY'", [table])) as [
    { Column_name: string; Seq_in_index: number }[],
  ];
  return rows.sort((a, b) => a.Seq_in_index - b.Seq_in_index).map((r) => r.Column_name);
}

/**
 * sha256 over every row in primary-key order, as the server returns it. Portable across MariaDB and
 * MySQL (CHECKSUM TABLE values depend on the row format), and sensitive to every column — or to the
 * given ones only, so a table that gained columns can be shown unchanged in all it had before.
 */
export async function tableDigest(db: Knex, table: string, columns: readonly string[] = ['*']): Promise<{ rows: number; sha256: string }> {
  const order = await primaryKey(db, table);
  const rows = (await db(table)
    .select(...columns)
    .orderBy(order)) as Record<string, unknown>[];
  const hash = createHash('sha256');
  for (const r of rows) hash.update(JSON.stringify(r)).update('\n');
  return { rows: rows.length, sha256: hash.digest('hex') };
}

/** The server's own CHECKSUM TABLE, as a second, independent opinion. */
export async function serverChecksum(db: Knex, table: string): Promise<string> {
  const [rows] = (await db.raw('CHECKSUM TABLE ??', [table])) as [{ Checksum: number | string | null }[]];
  return String(rows[0]?.Checksum);
}
