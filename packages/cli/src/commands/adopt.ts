import type { Knex } from 'knex';
import { createMysql, createRedis } from '@tally/clients';
import {
  ADOPTION_TABLE,
  ALL_PARTS,
  applyAdoption,
  backfillUserState,
  adoptedObjects,
  Catalog,
  checkCatalog,
  formatReport,
  loadCatalogMapping,
  rollbackAdoption,
  COUNTS_INDEX,
  HISTORY_UNIQUE_INDEX,
  type AdoptedObject,
  type CatalogReport,
} from '@tally/catalog';
import { TallyError } from '@tally/runtime';
import type { CliConfig } from '../context';

const out = (line = '') => process.stdout.write(`${line}\n`);
const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** Nothing missing: every mapped column matches and apply has nothing left to add. */
export const isClean = (r: CatalogReport) => r.problems.length === 0 && r.ddl.length === 0;

function mappingSource(config: CliConfig): string {
  return config.CATALOG_MAPPING === undefined ? 'none (CATALOG_MAPPING unset: the demo schema)' : config.CATALOG_MAPPING;
}

async function withDb<T>(config: CliConfig, fn: (db: Knex) => Promise<T>): Promise<T> {
  const db = createMysql({ url: config.MYSQL_URL, poolMax: 2 });
  try {
    return await fn(db);
  } finally {
    await db.destroy();
  }
}

/** The check as a person reads it: what matches, each problem with its fix, warnings, then the DDL apply would run, verbatim. */
export function formatCheck(report: CatalogReport, source: string): string {
  const lines = [`catalog mapping: ${source}`, `app database:    ${report.database}`, formatReport(report, { matches: true })];
  lines.push(
    `${plural(report.matches.length, 'match', 'matches')}, ${plural(report.problems.length, 'problem')}, ${plural(report.warnings.length, 'warning')}, ${plural(report.ddl.length, 'statement')} for tally adopt apply`,
  );
  if (report.ddl.length > 0) lines.push('tally adopt apply would run:', ...report.ddl.map((d) => `  ${d.sql};`));
  if (report.problems.length > 0)
    lines.push('tally adopt apply refuses to run until every problem is fixed (the fixes can change the DDL).');
  return lines.filter((l) => l !== '').join('\n');
}

/** `tally adopt check`: read-only. Exit 0 when nothing is missing, 1 when a problem or a statement for apply is left. */
export async function adoptCheck(config: CliConfig, o: { json?: boolean }): Promise<number> {
  const catalog = new Catalog(loadCatalogMapping(config.CATALOG_MAPPING));
  const report = await withDb(config, (db) => checkCatalog(db, catalog));
  if (o.json) out(JSON.stringify({ mapping: config.CATALOG_MAPPING ?? null, clean: isClean(report), ...report }, null, 2));
  else out(formatCheck(report, mappingSource(config)));
  return isClean(report) ? 0 : 1;
}

/**
 * `tally adopt apply`: only the check's additive DDL, each statement printed before it runs and
 * recorded for rollback. Refused (exit 1, nothing run) while the check has any problem.
 */
export async function adoptApply(config: CliConfig, o: { dryRun?: boolean }): Promise<number> {
  if (o.dryRun) return adoptCheck(config, {});
  const catalog = new Catalog(loadCatalogMapping(config.CATALOG_MAPPING));
  return withDb(config, async (db) => {
    let result;
    try {
      result = await applyAdoption(db, catalog, ALL_PARTS, { beforeStep: (s) => out(`running  ${s.sql}`) });
    } catch (err) {
      if (!(err instanceof TallyError && err.code === 'CATALOG_ADOPT_REFUSED')) throw err;
      process.stderr.write(`tally adopt apply: ${err.message}\n`);
      return 1;
    }
    const { applied, after } = result;
    out(
      applied.length === 0
        ? `nothing to apply: ${after.database} already has every column and index Tally needs`
        : `applied ${plural(applied.length, 'statement')}, recorded in ${ADOPTION_TABLE} (tally adopt rollback removes exactly these)`,
    );
    for (const w of after.warnings) out(`warning  ${w.message}; ${w.fix}`);
    if (isClean(after)) return 0;
    // Only when the schema changed under us between the two checks.
    process.stderr.write(`tally adopt apply: the check after applying is not clean:\n${formatReport(after)}\n`);
    return 1;
  });
}

/** What dropping an object costs, in the words the operator needs before saying --yes. */
function consequence(o: AdoptedObject, catalog: Catalog, appDatabase: string): string {
  const m = catalog.mapping;
  const on = (table: string) => o.schema_name === appDatabase && o.table_name === table;
  if (o.object_kind === 'column' && on(m.movies.table)) {
    const metric = (Object.keys(m.movies.counts) as (keyof typeof m.movies.counts)[]).find((k) => m.movies.counts[k] === o.object_name);
    if (metric)
      return `drops the ${metric} counts Tally kept in it (Redis ${catalog.keys.display(metric, 0).replace(/0$/, '{id}')} and the search index keep theirs until rebuilt)`;
    if (o.object_name === m.movies.countsUpdatedAt) return 'drops the change stamps es-sync walks';
  }
  if (o.object_kind === 'index' && o.object_name === COUNTS_INDEX)
    return 'es-sync can no longer read changed counts (it forces this index)';
  if (o.object_kind === 'index' && o.object_name === HISTORY_UNIQUE_INDEX)
    return 'the history sink can no longer upsert (duplicate rows follow)';
  return o.object_kind === 'column' ? 'drops the values Tally wrote in it' : 'drops the index';
}

/**
 * `tally adopt rollback`: lists what apply added (newest first) and, with --yes, drops exactly
 * that. Without --yes nothing is dropped (exit 2): dropping a counter column drops Tally's counts.
 */
export async function adoptRollback(config: CliConfig, o: { yes?: boolean }): Promise<number> {
  const catalog = new Catalog(loadCatalogMapping(config.CATALOG_MAPPING));
  return withDb(config, async (db) => {
    const objects = (await adoptedObjects(db)).reverse();
    if (objects.length === 0) {
      out(`nothing to roll back: ${ADOPTION_TABLE} records nothing tally adopt apply added`);
      return 0;
    }
    const [[{ current }]] = (await db.raw('SELECT DATABASE() AS current')) as [[{ current: string }]];
    const appDatabase = catalog.mapping.database ?? current;
    out(`tally adopt rollback drops, newest first (${plural(objects.length, 'object')} tally adopt apply added):`);
    for (const x of objects)
      out(
        `  ${x.object_kind} ${x.schema_name}.${x.table_name}.${x.object_name}: ${consequence(x, catalog, appDatabase)}\n      added by: ${x.ddl}`,
      );
    if (!o.yes) {
      process.stderr.write(
        "tally adopt rollback: nothing dropped. Stop Tally's consumers, flusher and es-sync, switch the app back to its own counter writes (docs/adopting.md), then run again with --yes.\n",
      );
      return 2;
    }
    const removed = await rollbackAdoption(db, {
      beforeDrop: (x) => out(`dropping ${x.object_kind} ${x.schema_name}.${x.table_name}.${x.object_name}`),
    });
    const gone = objects.length - removed.length;
    out(`dropped ${plural(removed.length, 'object')}${gone > 0 ? `; ${gone} recorded but already gone (record removed)` : ''}`);
    return 0;
  });
}

/**
 * `tally adopt backfill`: Tally's per-user state from the app's interactions and watchlists, the
 * likes column = the users liking each movie, the display keys from MySQL (packages/catalog
 * backfill.ts). Refused (exit 1) once the counter has counted anything, unless --force.
 */
export async function adoptBackfill(config: CliConfig, o: { force?: boolean }): Promise<number> {
  const catalog = new Catalog(loadCatalogMapping(config.CATALOG_MAPPING));
  const redis = createRedis({ url: config.REDIS_URL, connectionName: 'tally-adopt-backfill' });
  try {
    return await withDb(config, async (db) => {
      try {
        const r = await backfillUserState(db, redis, catalog, { force: o.force });
        out(
          `movie_user_state: ${plural(r.states.like, 'like')}, ${plural(r.states.rating, 'rating')}, ${plural(r.states.watchlist, 'watchlist entry', 'watchlist entries')}`,
        );
        out(
          `${catalog.table('movies')}.${catalog.movies.counts.likes}: ${plural(r.moviesChanged, 'movie')} changed to the number of users who like it`,
        );
        out(`Redis: ${plural(r.displayKeys, 'display key')} ${catalog.keys.display('likes', 0).replace(/0$/, '{id}')} set from MySQL`);
        return 0;
      } catch (err) {
        if (!(err instanceof TallyError && err.code === 'BACKFILL_AFTER_START')) throw err;
        process.stderr.write(`tally adopt backfill: ${err.message}\n`);
        return 1;
      }
    });
  } finally {
    redis.disconnect();
  }
}
