export { migrateLatest, migrateRollbackAll, migrationStatus, type MigrationStatus } from './migrate';
export { MIGRATIONS, migrationSource, createMigrationSource, type MigrationOptions } from './migrations';
export { seedDemo, validateSeedOptions, INSERT_CHUNK_ROWS, type SeedDemoOptions, type SeedReport, type SeedOptions } from './seed';
export { generateSeedRows, SEED_EPOCH_MS, MAX_SEED_ENTITIES, sqlDateTime } from './seed-data';
export { mulberry32, rngFor, hash32 } from './prng';
export { parseDbArgs, SEED_DEFAULTS, USAGE, type DbCommand, type MigrateAction } from './args';
export { main as runDbCli, runDbCommand } from './bin';
export { DbError, type DbErrorCode } from './errors';
export { createTempDatabase, withDatabase, type TempDatabase } from './testing/temp-database';
export {
  WEB_APP_TABLES,
  RAW_EVENT_TABLES,
  BOOKKEEPING_TABLES,
  DEAD_LETTER_TABLES,
  TALLY_TABLES,
  ADOPTION_TABLES,
  PRIVACY_TABLES,
  SEEDED_TABLES,
  RESET_BY_SEED_TABLES,
  OWNERSHIP_TABLE,
  MIGRATIONS_TABLE,
  type WebAppTable,
  type RawEventTable,
  type BookkeepingTable,
  type DeadLetterTable,
  type TallyTable,
  type SeededTable,
} from './tables';
