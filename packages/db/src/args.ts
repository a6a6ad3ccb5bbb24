import { parseArgs } from 'node:util';
import { DbError } from './errors';
import { MAX_SEED_ENTITIES, type SeedOptions } from './seed-data';

export type MigrateAction = 'latest' | 'rollback' | 'status';
export type DbCommand = { command: 'migrate'; action: MigrateAction } | { command: 'seed'; options: SeedOptions };

/** Demo defaults: big enough to look like a catalog, small enough to seed in about a second. */
export const SEED_DEFAULTS: SeedOptions = { movies: 1000, actors: 200, tags: 60, users: 100, seed: 1 };

export const USAGE = `usage:
  migrate [latest|rollback|status]     apply, roll back all, or list Tally's migrations (default: latest);
                                       with CATALOG_MAPPING set they create only Tally's own tables and
                                       never create, change or drop an app table
  seed [--movies N] [--actors N] [--tags N] [--users N] [--seed S]
                                       truncate and refill the demo web app tables with deterministic data
                                       (defaults: ${SEED_DEFAULTS.movies} movies, ${SEED_DEFAULTS.actors} actors, ${SEED_DEFAULTS.tags} tags, ${SEED_DEFAULTS.users} users, seed ${SEED_DEFAULTS.seed});
                                       refused (exit 2) when CATALOG_MAPPING is set: those are the app's tables`;

const usage = (message: string): DbError => new DbError('DB_USAGE', `${message}\n${USAGE}`);

function wholeNumber(flag: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  // Digits only: Number('1e3'), Number(' 12') and Number('0x10') all parse, and none is what was meant.
  const value = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    const what = min === 0 ? 'a whole number' : 'a positive whole number';
    throw usage(`--${flag} must be ${what} (${min} to ${max}), got "${raw}"`);
  }
  return value;
}

function parseSeed(args: string[]): SeedOptions {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        movies: { type: 'string' },
        actors: { type: 'string' },
        tags: { type: 'string' },
        users: { type: 'string' },
        seed: { type: 'string' },
      },
    }));
  } catch (e) {
    throw usage((e as Error).message);
  }
  const str = (k: string): string | undefined => values[k] as string | undefined;
  const entities = (k: 'movies' | 'actors' | 'tags' | 'users'): number => wholeNumber(k, str(k), SEED_DEFAULTS[k], 1, MAX_SEED_ENTITIES);
  return {
    movies: entities('movies'),
    actors: entities('actors'),
    tags: entities('tags'),
    users: entities('users'),
    // 32 bits: mulberry32's whole state.
    seed: wholeNumber('seed', str('seed'), SEED_DEFAULTS.seed, 0, 0xffffffff),
  };
}

/** Parses `migrate …` / `seed …` (argv without node and the script). Throws DbError DB_USAGE naming the bad argument. */
export function parseDbArgs(argv: readonly string[]): DbCommand {
  const [command, ...rest] = argv;
  if (command === 'migrate') {
    if (rest.length > 1) throw usage(`migrate takes one action, got "${rest.join(' ')}"`);
    const action = rest[0] ?? 'latest';
    if (action !== 'latest' && action !== 'rollback' && action !== 'status') {
      throw usage(`unknown migrate action "${action}" (expected latest, rollback or status)`);
    }
    return { command: 'migrate', action };
  }
  if (command === 'seed') return { command: 'seed', options: parseSeed(rest) };
  throw usage(command === undefined ? 'missing command' : `unknown command "${command}" (expected migrate or seed)`);
}
