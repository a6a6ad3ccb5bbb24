import type { Knex } from 'knex';
import {
  ADOPTION_TABLE,
  adoptedObjects,
  applyAdoption,
  Catalog,
  checkCatalog,
  COUNTS_INDEX,
  HISTORY_UNIQUE_INDEX,
  parseCatalogMapping,
  rollbackAdoption,
  type CatalogReport,
} from '@tally/catalog';
import { createTempDatabase, migrateLatest, type TempDatabase } from '@tally/db';
import { env } from '../helpers/env';
import {
  APP_TABLES,
  appMappingDocument,
  createAppSchema,
  snapshotApp,
  type AppTable,
  type TableSnapshot,
} from '../fixtures/app-schema/adopt';

// tally adopt against the app-shaped fixture (tests/fixtures/app-schema): Tally's tables in one temp
// database (MYSQL_URL's role), the app's in another (mapping.database), as in production.

const lines = (create: string) => create.split('\n').map((l) => l.trim().replace(/,$/, ''));
const problemsOf = (r: CatalogReport) => r.problems.map((p) => ({ table: p.table, column: p.column, rule: p.rule }));
const ddlOf = (r: CatalogReport) => r.ddl.map((d) => `${d.table} ${d.objectKind} ${d.objectName}`);
const columnsOf = (s: Record<AppTable, TableSnapshot>) =>
  Object.fromEntries(APP_TABLES.map((t) => [t, s[t].columns])) as Record<AppTable, string[]>;

/** Tally's database (migrated without web-app tables) and a fresh app database holding one fixture variant. */
async function databases(variant: 'compatible' | 'incompatible'): Promise<{ tally: TempDatabase; app: TempDatabase; catalog: Catalog }> {
  const tally = await createTempDatabase(env.MYSQL_URL);
  const app = await createTempDatabase(env.MYSQL_URL, 'tally_app');
  await migrateLatest(tally.db, { webAppTables: false });
  await createAppSchema(app.db, variant);
  return { tally, app, catalog: new Catalog(parseCatalogMapping(appMappingDocument(app.name))) };
}

async function adopted(db: Knex) {
  return (await adoptedObjects(db)).map((o) => `${o.schema_name}.${o.table_name} ${o.object_kind} ${o.object_name}`);
}

describe('tally adopt on an app schema Tally can adopt', () => {
  let tally: TempDatabase;
  let app: TempDatabase;
  let catalog: Catalog;
  let before: Record<AppTable, TableSnapshot>;
  beforeAll(async () => {
    ({ tally, app, catalog } = await databases('compatible'));
    before = await snapshotApp(app.db);
  });
  afterAll(async () => {
    await tally?.drop();
    await app?.drop();
  });

  it('check finds no problem and lists exactly the DDL Tally adds: likes, rating_count, rating_sum, watchlists, counts_updated_at and the counts index', async () => {
    const report = await checkCatalog(tally.db, catalog);
    expect(report.database).toBe(app.name);
    expect(report.problems).toEqual([]);
    expect(ddlOf(report)).toEqual([
      'jav column likes',
      'jav column rating_count',
      'jav column rating_sum',
      'jav column watchlists',
      'jav column counts_updated_at',
      `jav index ${COUNTS_INDEX}`,
    ]);
    expect(report.ddl.map((d) => d.sql)).toEqual([
      `ALTER TABLE \`${app.name}\`.\`jav\` ADD COLUMN \`likes\` BIGINT NOT NULL DEFAULT 0, LOCK=NONE`,
      `ALTER TABLE \`${app.name}\`.\`jav\` ADD COLUMN \`rating_count\` BIGINT NOT NULL DEFAULT 0, LOCK=NONE`,
      `ALTER TABLE \`${app.name}\`.\`jav\` ADD COLUMN \`rating_sum\` BIGINT NOT NULL DEFAULT 0, LOCK=NONE`,
      `ALTER TABLE \`${app.name}\`.\`jav\` ADD COLUMN \`watchlists\` BIGINT NOT NULL DEFAULT 0, LOCK=NONE`,
      `ALTER TABLE \`${app.name}\`.\`jav\` ADD COLUMN \`counts_updated_at\` DATETIME(3) NULL, LOCK=NONE`,
      `ALTER TABLE \`${app.name}\`.\`jav\` ADD INDEX \`${COUNTS_INDEX}\` (\`counts_updated_at\`, \`id\`), LOCK=NONE`,
    ]);
    // The app's own names, mapped: dvd_id, maker, viewed_at, the history key under its own name.
    expect(report.matches).toEqual(
      expect.arrayContaining([
        'jav.dvd_id (movies.display.code, varchar(50))',
        'jav.maker (movies.display.provider, varchar(191))',
        'user_jav_history.viewed_at (history.columns.lastViewedAt, datetime(3))',
        'user_jav_history unique key history_movie_user (jav_id, user_id)',
      ]),
    );
    // The one featured row of a kind Tally does not know is named, and does not stop anything.
    expect(report.warnings.map((w) => [w.table, w.column, w.rule])).toEqual([['featured_items', 'item_type', 'unmapped_values']]);
    expect(await snapshotApp(app.db)).toEqual(before); // read-only
  });

  it('apply adds exactly those objects, records each, and afterwards the check is clean', async () => {
    const ran: string[] = [];
    const { applied, after } = await applyAdoption(tally.db, catalog, undefined, { beforeStep: (s) => ran.push(s.objectName) });
    expect(ran).toEqual(['likes', 'rating_count', 'rating_sum', 'watchlists', 'counts_updated_at', COUNTS_INDEX]);
    expect(applied.map((d) => d.objectName)).toEqual(ran);
    expect(after.problems).toEqual([]);
    expect(after.ddl).toEqual([]);
    expect(await adopted(tally.db)).toEqual([
      `${app.name}.jav column likes`,
      `${app.name}.jav column rating_count`,
      `${app.name}.jav column rating_sum`,
      `${app.name}.jav column watchlists`,
      `${app.name}.jav column counts_updated_at`,
      `${app.name}.jav index ${COUNTS_INDEX}`,
    ]);
    const again = await applyAdoption(tally.db, catalog);
    expect(again.applied).toEqual([]);
    expect(await adopted(tally.db)).toHaveLength(6);
  });

  it('leaves every app row and column byte for byte as it was; SHOW CREATE TABLE differs only by the added objects', async () => {
    const now = await snapshotApp(app.db, columnsOf(before));
    for (const table of APP_TABLES) {
      expect({ table, rows: now[table].rows, sha256: now[table].sha256 }).toEqual({
        table,
        rows: before[table].rows,
        sha256: before[table].sha256,
      });
      if (table !== 'jav') expect(now[table].create).toBe(before[table].create);
    }
    expect(before.jav.rows).toBe(300);
    const was = lines(before.jav.create);
    const is = lines(now.jav.create);
    expect(is.filter((l) => !was.includes(l))).toEqual([
      expect.stringMatching(/^`likes` bigint(\(20\))? NOT NULL DEFAULT '?0'?$/),
      expect.stringMatching(/^`rating_count` bigint(\(20\))? NOT NULL DEFAULT '?0'?$/),
      expect.stringMatching(/^`rating_sum` bigint(\(20\))? NOT NULL DEFAULT '?0'?$/),
      expect.stringMatching(/^`watchlists` bigint(\(20\))? NOT NULL DEFAULT '?0'?$/),
      expect.stringMatching(/^`counts_updated_at` datetime\(3\) DEFAULT NULL$/),
      `KEY \`${COUNTS_INDEX}\` (\`counts_updated_at\`,\`id\`)`,
    ]);
    expect(is.filter((l) => was.includes(l))).toEqual(was);
    expect(now.jav.columns).toEqual([...before.jav.columns, 'likes', 'rating_count', 'rating_sum', 'watchlists', 'counts_updated_at']);
  });

  it('rollback drops exactly what apply added and restores SHOW CREATE TABLE and the rows exactly', async () => {
    const dropped: string[] = [];
    const removed = await rollbackAdoption(tally.db, { beforeDrop: (o) => dropped.push(o.object_name) });
    expect(dropped).toEqual([COUNTS_INDEX, 'counts_updated_at', 'watchlists', 'rating_sum', 'rating_count', 'likes']);
    expect(removed).toHaveLength(6);
    expect(await snapshotApp(app.db)).toEqual(before);
    expect(await tally.db(ADOPTION_TABLE).count({ n: '*' }).first()).toEqual({ n: 0 });
    expect(ddlOf(await checkCatalog(tally.db, catalog))).toHaveLength(6);
  });
});

describe('tally adopt apply when a statement fails', () => {
  let tally: TempDatabase;
  let app: TempDatabase;
  let catalog: Catalog;
  beforeAll(async () => {
    ({ tally, app, catalog } = await databases('compatible'));
    // History without its unique key (and no duplicates): apply then also adds UNIQUE (user, movie).
    await app.db.raw('ALTER TABLE user_jav_history DROP INDEX history_movie_user');
  });
  afterAll(async () => {
    await tally?.drop();
    await app?.drop();
  });

  it("takes the failed object's record back, so rollback never drops the app's own object of that name", async () => {
    expect(ddlOf(await checkCatalog(tally.db, catalog))).toEqual([
      'jav column likes',
      'jav column rating_count',
      'jav column rating_sum',
      'jav column watchlists',
      'jav column counts_updated_at',
      `jav index ${COUNTS_INDEX}`,
      `user_jav_history index ${HISTORY_UNIQUE_INDEX}`,
    ]);
    // The app writes a duplicate (user, movie) row between the check and the ADD UNIQUE.
    const apply = applyAdoption(tally.db, catalog, undefined, {
      beforeStep: async (s) => {
        if (s.objectName === HISTORY_UNIQUE_INDEX)
          await app.db.raw(
            'INSERT INTO user_jav_history (user_id, jav_id, view_count) SELECT user_id, jav_id, 1 FROM user_jav_history WHERE id = 1',
          );
      },
    });
    await expect(apply).rejects.toMatchObject({ code: 'ER_DUP_ENTRY' });
    expect(await adopted(tally.db)).toEqual([
      `${app.name}.jav column likes`,
      `${app.name}.jav column rating_count`,
      `${app.name}.jav column rating_sum`,
      `${app.name}.jav column watchlists`,
      `${app.name}.jav column counts_updated_at`,
      `${app.name}.jav index ${COUNTS_INDEX}`,
    ]);
    // The app team later adds a (non-unique) index of that very name: it is theirs.
    await app.db.raw(`ALTER TABLE user_jav_history ADD INDEX ${HISTORY_UNIQUE_INDEX} (user_id, jav_id)`);
    const appHistory = (await snapshotApp(app.db)).user_jav_history;
    expect((await rollbackAdoption(tally.db)).map((o) => o.object_name)).toEqual([
      COUNTS_INDEX,
      'counts_updated_at',
      'watchlists',
      'rating_sum',
      'rating_count',
      'likes',
    ]);
    expect((await snapshotApp(app.db)).user_jav_history).toEqual(appHistory);
  });
});

describe('tally adopt on an incompatible app schema', () => {
  let tally: TempDatabase;
  let app: TempDatabase;
  let catalog: Catalog;
  beforeAll(async () => {
    ({ tally, app, catalog } = await databases('incompatible'));
  });
  afterAll(async () => {
    await tally?.drop();
    await app?.drop();
  });

  it('check names each problem by table, column and reason, with its fix', async () => {
    const report = await checkCatalog(tally.db, catalog);
    expect(problemsOf(report)).toEqual([
      { table: 'jav', column: 'maker', rule: 'missing_column' },
      { table: 'jav', column: 'downloads', rule: 'nullable' },
      { table: 'user_jav_history', column: undefined, rule: 'duplicates' },
      { table: 'watchlists', column: 'jav_id', rule: 'type' },
    ]);
    const text = report.problems.map((p) => `${p.message}; fix: ${p.fix}`);
    expect(text[0]).toMatch(
      /^jav\.maker \(movies\.display\.provider\) does not exist; fix: map movies\.display\.provider to the app's column, or to null$/,
    );
    expect(text[1]).toMatch(
      /^jav\.downloads \(movies\.counts\.downloads\) allows NULL.*fix: in the app: UPDATE .* SET `downloads` = 0 WHERE `downloads` IS NULL/,
    );
    expect(text[2]).toMatch(
      /^user_jav_history has no unique key on \(user_id, jav_id\) and 3 pairs occur more than once; fix: merge the duplicate rows/,
    );
    expect(text[3]).toMatch(/^watchlists\.jav_id \(watchlists\.movie\) is char\(36\), Tally needs an integer type/);
    // The DDL is still listed (what apply would add once the problems are gone), but not for history.
    expect(ddlOf(report)).toEqual([
      'jav column likes',
      'jav column rating_count',
      'jav column rating_sum',
      'jav column watchlists',
      'jav column counts_updated_at',
      `jav index ${COUNTS_INDEX}`,
    ]);
  });

  it('apply refuses, naming the problems, and runs nothing', async () => {
    const before = await snapshotApp(app.db);
    const ran: string[] = [];
    await expect(applyAdoption(tally.db, catalog, undefined, { beforeStep: (s) => void ran.push(s.sql) })).rejects.toMatchObject({
      code: 'CATALOG_ADOPT_REFUSED',
      message: expect.stringMatching(
        /nothing run: 4 problems[\s\S]*jav\.maker[\s\S]*jav\.downloads[\s\S]*user_jav_history[\s\S]*watchlists\.jav_id/,
      ),
    });
    expect(ran).toEqual([]);
    expect(await adoptedObjects(tally.db)).toEqual([]);
    expect(await snapshotApp(app.db)).toEqual(before);
  });
});
