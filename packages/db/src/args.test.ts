import { parseDbArgs, SEED_DEFAULTS } from './args';
import { DbError } from './errors';

function usageError(argv: string[]): DbError {
  try {
    parseDbArgs(argv);
  } catch (e) {
    expect(e).toBeInstanceOf(DbError);
    expect((e as DbError).code).toBe('DB_USAGE');
    return e as DbError;
  }
  throw new Error(`expected a usage error for ${argv.join(' ')}`);
}

describe('parseDbArgs: migrate', () => {
  it('defaults to latest and accepts the three actions', () => {
    expect(parseDbArgs(['migrate'])).toEqual({ command: 'migrate', action: 'latest' });
    for (const action of ['latest', 'rollback', 'status'] as const) {
      expect(parseDbArgs(['migrate', action])).toEqual({ command: 'migrate', action });
    }
  });

  it('names an unknown action or extra arguments', () => {
    expect(usageError(['migrate', 'up']).message).toMatch(/^unknown migrate action "up"/);
    expect(usageError(['migrate', 'latest', 'now']).message).toMatch(/^migrate takes one action/);
  });
});

describe('parseDbArgs: seed', () => {
  it('uses the defaults for missing flags', () => {
    expect(parseDbArgs(['seed'])).toEqual({ command: 'seed', options: SEED_DEFAULTS });
    expect(parseDbArgs(['seed', '--movies', '100000', '--seed=7'])).toEqual({
      command: 'seed',
      options: { ...SEED_DEFAULTS, movies: 100000, seed: 7 },
    });
  });

  it('parses every flag', () => {
    const cmd = parseDbArgs(['seed', '--movies', '5', '--actors', '6', '--tags', '7', '--users', '8', '--seed', '0']);
    expect(cmd).toEqual({ command: 'seed', options: { movies: 5, actors: 6, tags: 7, users: 8, seed: 0 } });
  });

  it.each([
    [['--movies', '0'], '--movies must be a positive whole number (1 to 1000000), got "0"'],
    [['--movies=-5'], '--movies must be a positive whole number'],
    [['--actors', '1e3'], '--actors must be a positive whole number'],
    [['--tags', '2.5'], '--tags must be a positive whole number'],
    [['--users', 'many'], '--users must be a positive whole number'],
    [['--movies', '1000001'], '--movies must be a positive whole number (1 to 1000000)'],
    [['--seed', '4294967296'], '--seed must be a whole number (0 to 4294967295)'],
    [['--bogus', '1'], "Unknown option '--bogus'"],
    [['extra'], "Unexpected argument 'extra'"],
    [['--movies'], "Option '--movies <value>' argument missing"],
  ])('rejects %j naming the argument', (args, message) => {
    expect(usageError(['seed', ...args]).message.split('\n')[0]).toContain(message);
  });

  it('rejects a missing or unknown command and prints the usage', () => {
    expect(usageError([]).message).toMatch(/^missing command\nusage:/);
    expect(usageError(['drop']).message).toMatch(/^unknown command "drop"/);
  });
});
