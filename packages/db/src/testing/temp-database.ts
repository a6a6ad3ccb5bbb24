import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { createMysql } from '@tally/clients';
import { DbError } from '../errors';

export interface TempDatabase {
  name: string;
  /** MYSQL_URL with the database path replaced by `name`. */
  url: string;
  db: Knex;
  /** Closes `db` and drops the database. */
  drop(): Promise<void>;
}

/** MYSQL_URL pointing at another database on the same server, credentials and options kept. */
export function withDatabase(mysqlUrl: string, database: string): string {
  let u: URL;
  try {
    u = new URL(mysqlUrl);
  } catch {
    throw new DbError('DB_URL_INVALID', `MYSQL_URL is not a URL: ${mysqlUrl.replace(/\/\/[^@]*@/, '//***@')}`);
  }
  u.pathname = `/${database}`;
  return u.toString();
}

/**
 * A fresh, uniquely named database (`tally_test_<12 hex>`) so integration tests never touch the
 * shared `tally` database and can run in parallel. The server user must be allowed to CREATE/DROP.
 */
export async function createTempDatabase(mysqlUrl: string, prefix = 'tally_test'): Promise<TempDatabase> {
  const name = `${prefix}_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  const root = createMysql({ url: mysqlUrl, poolMax: 1 });
  try {
    await root.raw('CREATE DATABASE ?? CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci', [name]);
  } finally {
    await root.destroy();
  }
  const url = withDatabase(mysqlUrl, name);
  const db = createMysql({ url });
  return {
    name,
    url,
    db,
    drop: async () => {
      await db.destroy();
      const admin = createMysql({ url: mysqlUrl, poolMax: 1 });
      try {
        await admin.raw('DROP DATABASE IF EXISTS ??', [name]);
      } finally {
        await admin.destroy();
      }
    },
  };
}
