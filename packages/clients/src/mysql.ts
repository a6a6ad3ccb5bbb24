import knex, { type Knex } from 'knex';

export interface MysqlSettings {
  url: string;
  poolMax?: number;
}

/**
 * knex over mysql2. Dates come back as JS Dates in UTC and BIGINT ids as numbers only while they are
 * safe integers (movie ids are far below 2^53); the session time zone is UTC so NOW() and the
 * client agree whatever the server's zone.
 */
export function createMysql(s: MysqlSettings): Knex {
  return knex({
    client: 'mysql2',
    connection: {
      uri: s.url,
      timezone: 'Z',
      supportBigNumbers: true,
      bigNumberStrings: false,
      dateStrings: false,
      charset: 'utf8mb4',
    } as Knex.MySql2ConnectionConfig & { uri: string },
    pool: {
      min: 0,
      max: s.poolMax ?? 10,
      afterCreate: (
        conn: { query: (sql: string, cb: (err: Error | null) => void) => void },
        done: (err: Error | null, conn: unknown) => void,
      ) => {
        conn.query("SET time_zone = '+00:00'", (err) => done(err, conn));
      },
    },
    acquireConnectionTimeout: 10_000,
  });
}
