import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import type { Knex } from 'knex';
import { COUNTS_INDEX } from '@tally/catalog';
import { createTempDatabase, MIGRATIONS_TABLE, TALLY_TABLES, type TempDatabase } from '@tally/db';
import { env } from '../helpers/env';
import { createAppSchema, snapshotApp, writeAppMapping } from '../fixtures/app-schema/adopt';

// The tally command end to end (compiled, as a process) against the app-shaped fixture: migrate in
// adopt mode, adopt check / apply / rollback, and seed refusing.

const BIN = resolve(__dirname, '../../packages/cli/dist/bin.js');

function tallyWith(vars: Record<string, string>) {
  return (...args: string[]) => {
    const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, LOG_LEVEL: 'silent', ...vars } });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };
}

async function tables(db: Knex): Promise<string[]> {
  const [rows] = (await db.raw('SHOW TABLES')) as [Record<string, string>[]];
  return rows.map((r) => Object.values(r)[0]!).sort();
}

describe('tally migrate, adopt and seed with CATALOG_MAPPING set', () => {
  let tallyDb: TempDatabase;
  let app: TempDatabase;
  let tally: ReturnType<typeof tallyWith>;
  let original: Awaited<ReturnType<typeof snapshotApp>>;
  beforeAll(async () => {
    tallyDb = await createTempDatabase(env.MYSQL_URL);
    app = await createTempDatabase(env.MYSQL_URL, 'tally_app');
    await createAppSchema(app.db, 'compatible');
    original = await snapshotApp(app.db);
    tally = tallyWith({ MYSQL_URL: tallyDb.url, CATALOG_MAPPING: writeAppMapping(app.name) });
  });
  afterAll(async () => {
    await tallyDb?.drop();
    await app?.drop();
  });

  it('adopt apply and rollback before migrate fail (exit 1) and say to run tally migrate', () => {
    const r = tally('adopt', 'rollback');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/tally_adopted_objects does not exist in MYSQL_URL's database: run `tally migrate` first/);
  });

  it("migrate creates only Tally's tables in MYSQL_URL's database and leaves the app's untouched", async () => {
    const r = tally('migrate');
    expect(r.code).toBe(0);
    expect(await tables(tallyDb.db)).toEqual([...TALLY_TABLES, MIGRATIONS_TABLE, `${MIGRATIONS_TABLE}_lock`].sort());
    expect(await snapshotApp(app.db)).toEqual(original);
  });

  it('adopt check prints what matches, the warning, and the exact DDL apply would run; exit 1 while DDL is left', () => {
    const r = tally('adopt', 'check');
    expect(r.code).toBe(1);
    expect(r.out).toContain(`app database:    ${app.name}`);
    expect(r.out).toContain('ok       jav.dvd_id (movies.display.code, varchar(50))');
    expect(r.out).not.toMatch(/^problem/m);
    expect(r.out).toMatch(
      /^warning {2}featured_items\.item_type also holds values featured\.itemTypes does not name: 'Modules\\JAV\\Models\\Collection' \(1 row\)/m,
    );
    expect(r.out).toMatch(/, 0 problems, 1 warning, 6 statements for tally adopt apply\n/);
    expect(r.out.split('tally adopt apply would run:\n')[1]).toBe(
      [
        `  ALTER TABLE \`${app.name}\`.\`jav\` ADD COLUMN \`likes\` BIGINT NOT NULL DEFAULT 0, LOCK=NONE;`,
        `  ALTER TABLE \`${app.name}\`.\`jav\` ADD COLUMN \`rating_count\` BIGINT NOT NULL DEFAULT 0, LOCK=NONE;`,
        `  ALTER TABLE \`${app.name}\`.\`jav\` ADD COLUMN \`rating_sum\` BIGINT NOT NULL DEFAULT 0, LOCK=NONE;`,
        `  ALTER TABLE \`${app.name}\`.\`jav\` ADD COLUMN \`watchlists\` BIGINT NOT NULL DEFAULT 0, LOCK=NONE;`,
        `  ALTER TABLE \`${app.name}\`.\`jav\` ADD COLUMN \`counts_updated_at\` DATETIME(3) NULL, LOCK=NONE;`,
        `  ALTER TABLE \`${app.name}\`.\`jav\` ADD INDEX \`${COUNTS_INDEX}\` (\`counts_updated_at\`, \`id\`), LOCK=NONE;`,
        '',
      ].join('\n'),
    );
    const json = tally('adopt', 'check', '--json');
    expect(json.code).toBe(1);
    const report = JSON.parse(json.out) as { clean: boolean; database: string; problems: unknown[]; ddl: { objectName: string }[] };
    expect(report).toMatchObject({ clean: false, database: app.name, problems: [] });
    expect(report.ddl.map((d) => d.objectName)).toEqual([
      'likes',
      'rating_count',
      'rating_sum',
      'watchlists',
      'counts_updated_at',
      COUNTS_INDEX,
    ]);
  });

  it('adopt apply --dry-run is the check: same output and exit code, nothing run', async () => {
    const dry = tally('adopt', 'apply', '--dry-run');
    expect(dry).toEqual({ ...tally('adopt', 'check'), code: 1 });
    expect(await snapshotApp(app.db)).toEqual(original);
  });

  it('adopt apply prints each statement before running it; the check is then clean (exit 0)', async () => {
    const r = tally('adopt', 'apply');
    expect(r.code).toBe(0);
    expect(
      r.out
        .split('\n')
        .filter((l) => l.startsWith('running  '))
        .map((l) => l.replace(/^running {2}ALTER TABLE \S+ /, '')),
    ).toEqual([
      'ADD COLUMN `likes` BIGINT NOT NULL DEFAULT 0, LOCK=NONE',
      'ADD COLUMN `rating_count` BIGINT NOT NULL DEFAULT 0, LOCK=NONE',
      'ADD COLUMN `rating_sum` BIGINT NOT NULL DEFAULT 0, LOCK=NONE',
      'ADD COLUMN `watchlists` BIGINT NOT NULL DEFAULT 0, LOCK=NONE',
      'ADD COLUMN `counts_updated_at` DATETIME(3) NULL, LOCK=NONE',
      `ADD INDEX \`${COUNTS_INDEX}\` (\`counts_updated_at\`, \`id\`), LOCK=NONE`,
    ]);
    expect(r.out).toContain('applied 6 statements, recorded in tally_adopted_objects');
    expect(tally('adopt', 'check').code).toBe(0);
    expect(tally('adopt', 'apply').out).toMatch(/^nothing to apply/);
  });

  it('adopt rollback without --yes lists what it would drop and what that costs, drops nothing (exit 2)', async () => {
    const r = tally('adopt', 'rollback');
    expect(r.code).toBe(2);
    expect(r.out).toContain('tally adopt rollback drops, newest first (6 objects tally adopt apply added):');
    expect(r.out).toContain(`index ${app.name}.jav.${COUNTS_INDEX}: es-sync can no longer read changed counts`);
    expect(r.out).toContain(`column ${app.name}.jav.likes: drops the likes counts Tally kept in it (Redis jav:likes:{id}`);
    expect(r.err).toMatch(/nothing dropped.*--yes/);
    expect((await snapshotApp(app.db)).jav.columns).toContain('likes');
  });

  it('adopt rollback --yes drops exactly those, and the app schema and rows are as they were', async () => {
    const r = tally('adopt', 'rollback', '--yes');
    expect(r.code).toBe(0);
    expect(r.out.split('\n').filter((l) => l.startsWith('dropping '))).toEqual([
      `dropping index ${app.name}.jav.${COUNTS_INDEX}`,
      `dropping column ${app.name}.jav.counts_updated_at`,
      ...['watchlists', 'rating_sum', 'rating_count', 'likes'].map((c) => `dropping column ${app.name}.jav.${c}`),
    ]);
    expect(await snapshotApp(app.db)).toEqual(original);
    expect(tally('adopt', 'rollback')).toMatchObject({ code: 0, out: expect.stringMatching(/^nothing to roll back/) });
  });

  it("seed refuses (exit 2), naming why, and touches neither the app's tables nor Tally's", async () => {
    const before = await tables(tallyDb.db);
    const r = tally('seed', '--movies', '10');
    expect(r.code).toBe(2);
    expect(r.err).toContain(`maps the web app's own tables (database ${app.name}), and seeding truncates and refills them`);
    expect(await tables(tallyDb.db)).toEqual(before);
    expect(await snapshotApp(app.db)).toEqual(original);
  });

  it("migrate rollback removes Tally's tables and leaves the app's", async () => {
    expect(tally('migrate', 'rollback').code).toBe(0);
    expect(await tables(tallyDb.db)).toEqual([]);
    expect(await snapshotApp(app.db)).toEqual(original);
  });
});

describe('tally adopt on the incompatible app schema', () => {
  let tallyDb: TempDatabase;
  let app: TempDatabase;
  let tally: ReturnType<typeof tallyWith>;
  beforeAll(async () => {
    tallyDb = await createTempDatabase(env.MYSQL_URL);
    app = await createTempDatabase(env.MYSQL_URL, 'tally_app');
    await createAppSchema(app.db, 'incompatible');
    tally = tallyWith({ MYSQL_URL: tallyDb.url, CATALOG_MAPPING: writeAppMapping(app.name) });
    expect(tally('migrate').code).toBe(0);
  });
  afterAll(async () => {
    await tallyDb?.drop();
    await app?.drop();
  });

  it('check lists each problem with its fix (exit 1)', () => {
    const r = tally('adopt', 'check');
    expect(r.code).toBe(1);
    expect(
      r.out
        .split('\n')
        .filter((l) => l.startsWith('problem  '))
        .map((l) => l.split(';')[0]),
    ).toEqual([
      'problem  jav.maker (movies.display.provider) does not exist',
      'problem  jav.downloads (movies.counts.downloads) allows NULL: Tally adds to it, and NULL + 1 stays NULL',
      'problem  user_jav_history has no unique key on (user_id, jav_id) and 3 pairs occur more than once',
      'problem  watchlists.jav_id (watchlists.movie) is char(36), Tally needs an integer type',
    ]);
    expect(r.out).toContain('tally adopt apply refuses to run until every problem is fixed');
  });

  it('apply refuses (exit 1) and runs nothing', async () => {
    const before = await snapshotApp(app.db);
    const r = tally('adopt', 'apply');
    expect(r.code).toBe(1);
    expect(r.out).not.toContain('running');
    expect(r.err).toMatch(/^tally adopt apply: nothing run: 4 problems in \S+ only the app team \(or a mapping change\) can fix/);
    expect(await snapshotApp(app.db)).toEqual(before);
    expect(await tallyDb.db('tally_adopted_objects').count({ n: '*' }).first()).toEqual({ n: 0 });
  });

  it('a mapping file that cannot be read, or names a database that does not exist, is invalid configuration (exit 2)', () => {
    expect(tallyWith({ MYSQL_URL: tallyDb.url, CATALOG_MAPPING: '/nonexistent/mapping.json' })('adopt', 'check')).toMatchObject({
      code: 2,
      err: expect.stringContaining('CATALOG_MAPPING: cannot read /nonexistent/mapping.json'),
    });
    expect(tallyWith({ MYSQL_URL: tallyDb.url, CATALOG_MAPPING: writeAppMapping('no_such_app_db_91c2') })('adopt', 'apply')).toMatchObject({
      code: 2,
      err: expect.stringContaining('database no_such_app_db_91c2 does not exist'),
    });
  });
});
