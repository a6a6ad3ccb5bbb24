import type { Knex } from 'knex';
import * as catalogTables from './0001-catalog-tables';
import * as userTables from './0002-user-tables';
import * as rawEventLogs from './0003-raw-event-logs';
import * as pipelineBookkeeping from './0004-pipeline-bookkeeping';
import * as deadLetters from './0005-dead-letters';
import * as deadLetterRequeues from './0006-dead-letter-requeues';
import * as viewRepeatFlag from './0007-view-repeat-flag';

interface NamedMigration {
  /** Stored in tally_migrations: never rename one that has shipped. No extension, so ts and js agree. */
  name: string;
  migration: Knex.Migration;
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
  { name: '0007_view_repeat_flag', migration: viewRepeatFlag },
];

export const migrationSource: Knex.MigrationSource<NamedMigration> = {
  getMigrations: async () => [...MIGRATIONS],
  getMigrationName: (m) => m.name,
  getMigration: async (m) => m.migration,
};
