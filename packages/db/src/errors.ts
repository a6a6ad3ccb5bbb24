/** Error codes of @tally/db; callers switch on `code`, never on the message. */
export type DbErrorCode =
  | 'DB_USAGE' // bad command-line arguments
  | 'DB_SEED_FOREIGN_TABLE' // the seeder would truncate a table the migrations did not create
  | 'DB_SEED_APP_CATALOG' // seeding asked for while CATALOG_MAPPING maps the web app's own tables
  | 'DB_SEED_INVALID' // seedDemo called with impossible sizes
  | 'DB_URL_INVALID'; // MYSQL_URL cannot be turned into a per-test database URL

export class DbError extends Error {
  constructor(
    readonly code: DbErrorCode,
    message: string,
    readonly retriable = false,
  ) {
    super(message);
    this.name = 'DbError';
  }
}
