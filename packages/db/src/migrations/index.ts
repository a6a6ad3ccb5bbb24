import type { Knex } from 'knex';
import * as catalogTables from './0001-catalog-tables';
import * as userTables from './0002-user-tables';
import * as rawEventLogs from './0003-raw-event-logs';
import * as pipelineBookkeeping from './0004-pipeline-bookkeeping';
import * as deadLetters from './0005-dead-letters';
import * as deadLetterRequeues from './0006-dead-letter-requeues';
import * as adoptionAndUserState from './0007-adoption-and-user-state';
import * as userStateFigures from './0008-user-state-figures';
import * as viewRepeatFlag from './0009-view-repeat-flag';
import * as retentionIndexes from './0010-retention-indexes';
import * as forgottenPeople from './0011-forgotten-people';
import * as dashboardWindowIndexes from './0012-dashboard-window-indexes';

interface NamedMigration {
  /** Stored in tally_migrations: never rename one that has shipped. No extension, so ts and js agree. */
  name: string;
  migration: Knex.Migration;
}

export interface MigrationOptions {
  /**
   * Create the demo web-app tables (jav, users, …) when missing and add Tally's columns to a `jav`
   * that lacks them: true for the demo schema (no CATALOG_MAPPING). False when Tally runs against a
   * web app's own tables: the migrations then create only Tally's tables, and the app's tables are
   * changed by `tally adopt apply` alone (docs/adopting.md).
   */
  webAppTables: boolean;
}

// Imported statically rather than read from a directory: the same list then works from the
// TypeScript sources under jest and from compiled dist/, with no loadExtensions juggling.
export const MIGRATIONS: readonly NamedMigration[] = [
  { name: '0001_catalog_tables', migration: catalogTables },
  { name: '0002_user_tables', migration: userTables },
  { name: '0003_raw_event_logs', migration: rawEventLogs },
  { name: '0004_pipeline_bookkeeping', migration: pipelineBookkeeping },
  { name: '0005_dead_letters', migration: deadLetters },
  { name: '0006_dead_letter_requeues', migration: deadLetterRequeues },
  { name: '0007_adoption_and_user_state', migration: adoptionAndUserState },
  { name: '0008_user_state_figures', migration: userStateFigures },
  { name: '0009_view_repeat_flag', migration: viewRepeatFlag },
  { name: '0010_retention_indexes', migration: retentionIndexes },
  { name: '0011_forgotten_people', migration: forgottenPeople },
  { name: '0012_dashboard_window_indexes', migration: dashboardWindowIndexes },
];

/**
 * 0001, 0002 and 0008 without their web-app tables. Same names, so tally_migrations reads the same in both
 * modes; 0001 keeps the ownership registry (a Tally table, empty here, that the seeder consults).
 */
const WITHOUT_WEB_APP_TABLES: Record<string, Knex.Migration> = {
  '0001_catalog_tables': { up: catalogTables.upOwnershipOnly, down: catalogTables.downOwnershipOnly },
  '0002_user_tables': { up: async () => {}, down: async () => {} },
  // The demo jav's per-user figures; on the app's jav, `tally adopt apply` adds them.
  '0008_user_state_figures': { up: async () => {}, down: async () => {} },
};

/** The migrations for one mode; knex stores only names, so either source reads the other's log. */
export function createMigrationSource(options: MigrationOptions): Knex.MigrationSource<NamedMigration> {
  const list = options.webAppTables
    ? MIGRATIONS
    : MIGRATIONS.map((m) => ({ name: m.name, migration: WITHOUT_WEB_APP_TABLES[m.name] ?? m.migration }));
  return {
    getMigrations: async () => [...list],
    getMigrationName: (m) => m.name,
    getMigration: async (m) => m.migration,
  };
}

/** The demo schema's migrations (web-app tables included). */
export const migrationSource: Knex.MigrationSource<NamedMigration> = createMigrationSource({ webAppTables: true });
