import type { Knex } from 'knex';
import { escape, escapeId } from 'mysql2';
import { DbError } from './errors';
import { generateSeedRows, MAX_SEED_ENTITIES, type Row, type SeedOptions, type SeedRows } from './seed-data';
import { OWNERSHIP_TABLE, RESET_BY_SEED_TABLES, SEEDED_TABLES, type SeededTable } from './tables';

export type { SeedOptions } from './seed-data';

// 1,000-row statements: ≈147k rows/s vs ≈4k rows/s single-row on the local MariaDB; larger ones gain
// little and approach max_allowed_packet (jav rows are ~250 bytes of SQL each).
export const INSERT_CHUNK_ROWS = 1000;
// 4 tables load at once (of the pool's 10 connections): 100k movies took 13.7 s vs 15.9 s one table
// at a time on the 2-core dev box; more writers only contend for the same CPUs.
const PARALLEL_TABLES = 4;

export interface SeedDemoOptions extends SeedOptions {
  /** Seed tables the migrations did not create (the web app's own). Off by default: the seeder truncates. */
  allowForeignTables?: boolean;
}

export interface SeedReport {
  rows: Record<SeededTable, number>;
  elapsedMs: number;
}

export function validateSeedOptions(o: SeedOptions): void {
  for (const key of ['movies', 'actors', 'tags', 'users'] as const) {
    const v = o[key];
    if (!Number.isInteger(v) || v < 1 || v > MAX_SEED_ENTITIES) {
      throw new DbError('DB_SEED_INVALID', `${key} must be a whole number from 1 to ${MAX_SEED_ENTITIES}, got ${String(v)}`);
    }
  }
  if (!Number.isInteger(o.seed) || o.seed < 0 || o.seed > 0xffffffff) {
    throw new DbError('DB_SEED_INVALID', `seed must be a whole number from 0 to 4294967295, got ${String(o.seed)}`);
  }
}

/** The seeder empties every table it touches; refuse unless the migrations created them. */
async function assertOwned(db: Knex, tables: readonly string[]): Promise<void> {
  const owned = (await db.schema.hasTable(OWNERSHIP_TABLE))
    ? new Set((await db(OWNERSHIP_TABLE).where({ object_kind: 'table' }).pluck('table_name')) as string[])
    : new Set<string>();
  const foreign = tables.filter((t) => !owned.has(t));
  if (foreign.length > 0) {
    throw new DbError(
      'DB_SEED_FOREIGN_TABLE',
      `refusing to truncate tables the migrations did not create: ${foreign.join(', ')} ` +
        '(run the migrations on an empty database, or pass allowForeignTables to seed the web app tables anyway)',
    );
  }
}

/**
 * One multi-row INSERT, escaped by mysql2's own escaper. Built by hand rather than with knex's
 * insert builder, which normalizes every row object and cost ~2.5 s of CPU per 100k jav rows here.
 */
export function insertSql(table: string, rows: readonly Row[]): string {
  const columns = Object.keys(rows[0] ?? {});
  const values = rows.map((r) => `(${columns.map((c) => escape(r[c])).join(',')})`);
  return `INSERT INTO ${escapeId(table)} (${columns.map((c) => escapeId(c)).join(',')}) VALUES ${values.join(',')}`;
}

/** One transaction per table: one redo-log fsync per table instead of one per 1,000-row statement. */
async function insertChunked(db: Knex, table: string, rows: readonly Row[]): Promise<void> {
  await db.transaction(async (trx) => {
    for (let i = 0; i < rows.length; i += INSERT_CHUNK_ROWS) {
      await trx.raw(insertSql(table, rows.slice(i, i + INSERT_CHUNK_ROWS)));
    }
  });
}

async function loadTables(db: Knex, data: SeedRows): Promise<void> {
  // Largest first, so the long link tables start early and the small ones fill the gaps.
  const queue = (Object.keys(data) as (keyof SeedRows)[]).sort((a, b) => data[b].length - data[a].length);
  const worker = async (): Promise<void> => {
    for (let table = queue.shift(); table !== undefined; table = queue.shift()) await insertChunked(db, table, data[table]);
  };
  await Promise.all(Array.from({ length: PARALLEL_TABLES }, worker));
}

/**
 * Fills the web app's catalog with a deterministic demo data set: same options ⇒ byte-identical
 * rows. Truncate-and-fill (not upsert) so a smaller re-run leaves no rows from a larger one; the user
 * state tables are emptied too because their ids would point at different movies. Raw event logs
 * and pipeline bookkeeping are never touched.
 */
export async function seedDemo(db: Knex, options: SeedDemoOptions): Promise<SeedReport> {
  validateSeedOptions(options);
  const started = performance.now();
  const all = [...SEEDED_TABLES, ...RESET_BY_SEED_TABLES];
  if (!options.allowForeignTables) await assertOwned(db, all);
  const data = generateSeedRows(options);
  for (const table of all) await db(table).truncate();
  await loadTables(db, data);
  const rows = Object.fromEntries(all.map((t) => [t, t in data ? data[t as keyof SeedRows].length : 0])) as Record<SeededTable, number>;
  return { rows, elapsedMs: Math.round(performance.now() - started) };
}
