import type { Knex } from 'knex';
import { createMysql } from '@tally/clients';
import { baseConfigSchema, ConfigError, loadConfig } from '@tally/config';
import { adoptsApp, loadCatalogMapping } from '@tally/catalog';
import { parseDbArgs, type DbCommand } from './args';
import { DbError } from './errors';
import { migrateLatest, migrateRollbackAll, migrationStatus } from './migrate';
import type { MigrationOptions } from './migrations';
import { seedDemo } from './seed';

/** Runs one parsed command against `db`; returns the lines to print. Kept separate so the tally CLI can reuse it. */
export async function runDbCommand(db: Knex, cmd: DbCommand, options: MigrationOptions = { webAppTables: true }): Promise<string[]> {
  if (cmd.command === 'seed') {
    // The seeder truncates the catalog tables: only ever the demo's (see refuseSeed for the message).
    if (!options.webAppTables)
      throw new DbError('DB_SEED_APP_CATALOG', "refusing to seed: the catalog tables are the web app's own (CATALOG_MAPPING is set)");
    const report = await seedDemo(db, cmd.options);
    const rows = Object.entries(report.rows).map(([t, n]) => `  ${t}: ${n}`);
    return [`seeded (seed ${cmd.options.seed}) in ${report.elapsedMs} ms`, ...rows];
  }
  switch (cmd.action) {
    case 'latest': {
      const applied = await migrateLatest(db, options);
      return applied.length === 0 ? ['already up to date'] : applied.map((m) => `applied ${m}`);
    }
    case 'rollback': {
      const reverted = await migrateRollbackAll(db, options);
      return reverted.length === 0 ? ['nothing to roll back'] : reverted.map((m) => `rolled back ${m}`);
    }
    case 'status': {
      const s = await migrationStatus(db, options);
      return [...s.completed.map((m) => `applied  ${m}`), ...s.pending.map((m) => `pending  ${m}`)];
    }
  }
}

const dbConfigSchema = baseConfigSchema;

/**
 * `tally seed` with a mapping file set: the catalog tables are the app's, and the seeder would
 * truncate them. Configuration, not a failure (exit 2): nothing was tried.
 */
function refuseSeed(path: string, database: string | null): string {
  return (
    `refusing to seed: CATALOG_MAPPING (${path}) maps the web app's own tables (${database === null ? "in MYSQL_URL's database" : `database ${database}`}), ` +
    'and seeding truncates and refills them. Seeding is for the demo schema only: unset CATALOG_MAPPING (and point MYSQL_URL at a demo database).'
  );
}

/**
 * Entry point: `node dist/bin.js migrate status`. Returns the process exit code: 2 for a usage or
 * configuration error (nothing connected), 1 when the command failed. CATALOG_MAPPING set = the
 * migrations create only Tally's tables, and seeding is refused.
 */
export async function main(
  argv: readonly string[],
  out = console.log,
  err = console.error,
  env?: Record<string, string | undefined>,
): Promise<number> {
  let cmd: DbCommand;
  let options: MigrationOptions;
  let config: Readonly<{ MYSQL_URL: string }>;
  try {
    cmd = parseDbArgs(argv);
    const c = loadConfig(dbConfigSchema, env);
    // Read even when only its presence matters: a broken file is a configuration error for every command.
    const mapping = loadCatalogMapping(c.CATALOG_MAPPING);
    options = { webAppTables: !adoptsApp(c) };
    if (cmd.command === 'seed' && c.CATALOG_MAPPING !== undefined)
      throw new DbError('DB_SEED_APP_CATALOG', refuseSeed(c.CATALOG_MAPPING, mapping.database));
    config = c;
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (e instanceof DbError || e instanceof ConfigError || code === 'CATALOG_MAPPING_INVALID') {
      err(e instanceof ConfigError ? e.message : (e as Error).message);
      return 2;
    }
    throw e;
  }
  const db = createMysql({ url: config.MYSQL_URL });
  try {
    for (const line of await runDbCommand(db, cmd, options)) out(line);
    return 0;
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    err(`${typeof code === 'string' ? `${code}: ` : ''}${(e as Error).message}`);
    return 1;
  } finally {
    await db.destroy();
  }
}

if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
