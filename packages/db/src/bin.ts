import type { Knex } from 'knex';
import { createMysql } from '@tally/clients';
import { baseConfigSchema, loadConfig } from '@tally/config';
import { parseDbArgs, type DbCommand } from './args';
import { DbError } from './errors';
import { migrateLatest, migrateRollbackAll, migrationStatus } from './migrate';
import { seedDemo } from './seed';

/** Runs one parsed command against `db`; returns the lines to print. Kept separate so the tally CLI can reuse it. */
export async function runDbCommand(db: Knex, cmd: DbCommand): Promise<string[]> {
  if (cmd.command === 'seed') {
    const report = await seedDemo(db, cmd.options);
    const rows = Object.entries(report.rows).map(([t, n]) => `  ${t}: ${n}`);
    return [`seeded (seed ${cmd.options.seed}) in ${report.elapsedMs} ms`, ...rows];
  }
  switch (cmd.action) {
    case 'latest': {
      const applied = await migrateLatest(db);
      return applied.length === 0 ? ['already up to date'] : applied.map((m) => `applied ${m}`);
    }
    case 'rollback': {
      const reverted = await migrateRollbackAll(db);
      return reverted.length === 0 ? ['nothing to roll back'] : reverted.map((m) => `rolled back ${m}`);
    }
    case 'status': {
      const s = await migrationStatus(db);
      return [...s.completed.map((m) => `applied  ${m}`), ...s.pending.map((m) => `pending  ${m}`)];
    }
  }
}

/** Entry point: `node dist/bin.js migrate status`. Returns the process exit code (2 = usage error). */
export async function main(argv: readonly string[], out = console.log, err = console.error): Promise<number> {
  let cmd: DbCommand;
  try {
    cmd = parseDbArgs(argv);
  } catch (e) {
    err(e instanceof DbError ? e.message : String(e));
    return 2;
  }
  const config = loadConfig(baseConfigSchema);
  const db = createMysql({ url: config.MYSQL_URL });
  try {
    for (const line of await runDbCommand(db, cmd)) out(line);
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
