import { baseConfigSchema, loadConfig } from '@tally/config';
import { migrateLatest, migrateRollbackAll, migrationStatus } from './migrate';
import { MIGRATIONS } from './migrations';
import { COUNTS_INDEX as JAV_COUNTS_INDEX } from '@tally/catalog';
import { MIGRATIONS_TABLE, OWNERSHIP_TABLE, RAW_EVENT_TABLES, TALLY_TABLES, WEB_APP_TABLES } from './tables';
import { createTempDatabase, type TempDatabase } from './testing/temp-database';
import type { Knex } from 'knex';
import { eventDefinitions, sampleOwnFields } from '@tally/events';

const { MYSQL_URL } = loadConfig(baseConfigSchema);
const NAMES = MIGRATIONS.map((m) => m.name);

async function tables(db: Knex): Promise<string[]> {
  const [rows] = (await db.raw('SHOW TABLES')) as [Record<string, string>[]];
  return rows.map((r) => Object.values(r)[0]!).sort();
}

async function showCreate(db: Knex, table: string): Promise<string> {
  const [rows] = (await db.raw('SHOW CREATE TABLE ??', [table])) as [Record<string, string>[]];
  return rows[0]!['Create Table']!;
}

const event = (id: string, extra: Record<string, unknown>) => ({
  event_id: id,
  ip: '203.0.113.9',
  occurred_at: '2025-01-01 00:00:00.000',
  received_at: '2025-01-01 00:00:00.100',
  ...extra,
});
// Any other raw log (added from the catalog) gets the own fields of the first type logged in it.
const SHIPPED_BODY: Partial<Record<(typeof RAW_EVENT_TABLES)[number], Record<string, unknown>>> = {
  view_events: { jav_id: 1 },
  download_events: { jav_id: 1 },
  actor_view_events: { actor_id: 1 },
  tag_view_events: { tag_id: 1 },
  recommendation_click_events: { jav_id: 1, reason: 'similar-tags' },
  interaction_events: { jav_id: 1, type: 'rate', rating: 4 },
  search_events: { query: 'summer', filters: JSON.stringify({ tag: [3] }), entity_type: 'movie', result_count: 12 },
  featured_events: { action: 'created', item_type: 'movie', item_id: 1, group: 'home', rank: 1, active: true },
};

function bodyOf(table: (typeof RAW_EVENT_TABLES)[number]): Record<string, unknown> {
  const type = eventDefinitions().find((d) => d.raw_log_table === table)?.type;
  return SHIPPED_BODY[table] ?? (type === undefined ? {} : sampleOwnFields(type));
}

describe('migrations on an empty database', () => {
  let t: TempDatabase;
  beforeAll(async () => {
    t = await createTempDatabase(MYSQL_URL);
  });
  afterAll(() => t.drop());

  it('apply once, create every table, and report status', async () => {
    expect(await migrationStatus(t.db)).toEqual({ completed: [], pending: NAMES });
    expect(await migrateLatest(t.db)).toEqual(NAMES);
    expect(await migrateLatest(t.db)).toEqual([]);
    expect(await migrationStatus(t.db)).toEqual({ completed: NAMES, pending: [] });
    const expected = [...WEB_APP_TABLES, ...TALLY_TABLES, MIGRATIONS_TABLE, `${MIGRATIONS_TABLE}_lock`].sort();
    expect(await tables(t.db)).toEqual(expected);
    expect(await showCreate(t.db, 'jav')).toContain(`KEY \`${JAV_COUNTS_INDEX}\` (\`counts_updated_at\`,\`id\`)`);
    expect(await showCreate(t.db, 'view_events')).toMatch(/ENGINE=InnoDB DEFAULT CHARSET=utf8mb4/);
  });

  it('re-running every up on a migrated database changes nothing (a crash mid-migration can be re-run)', async () => {
    const before = await Promise.all((await tables(t.db)).map((x) => showCreate(t.db, x)));
    for (const m of MIGRATIONS) await m.migration.up(t.db);
    expect(await Promise.all((await tables(t.db)).map((x) => showCreate(t.db, x)))).toEqual(before);
  });

  it.each(RAW_EVENT_TABLES)('%s accepts an event once; a duplicate event_id fails, in any letter case', async (table) => {
    const id = '0b9e3c1e-6f0a-4d2b-9c61-5a1f2e3d4c5b';
    await t.db(table).insert(event(id, bodyOf(table)));
    await expect(t.db(table).insert(event(id, bodyOf(table)))).rejects.toMatchObject({ code: 'ER_DUP_ENTRY' });
    await expect(t.db(table).insert(event(id.toUpperCase(), bodyOf(table)))).rejects.toMatchObject({ code: 'ER_DUP_ENTRY' });
    // INSERT IGNORE, the event-logger's replay path, adds nothing.
    await t
      .db(table)
      .insert(event(id, bodyOf(table)))
      .onConflict()
      .ignore();
    expect(await t.db(table).count({ n: '*' }).first()).toEqual({ n: 1 });
  });

  it('enforces the bookkeeping and web-app keys the sinks rely on', async () => {
    const dup = async (table: string, row: Record<string, unknown>) => {
      await t.db(table).insert(row);
      await expect(t.db(table).insert(row)).rejects.toMatchObject({ code: 'ER_DUP_ENTRY' });
    };
    await dup('counter_offsets', { topic: 'views', partition: 0, offset: 41 });
    await dup('consumer_progress', { group_id: 'history', topic: 'views', partition: 0, offset: 41 });
    await dup('flush_ledger', { flush_id: '7d1f0e52-3c4b-4a1e-8f2d-1b2c3d4e5f60' });
    await dup('history_applied_events', { event_id: '7d1f0e52-3c4b-4a1e-8f2d-1b2c3d4e5f61' });
    await dup('sync_watermarks', { name: 'es-sync', watermark: '2025-01-01 00:00:00.000' });
    await dup('user_jav_history', { user_id: 1, jav_id: 2, view_count: 1 });
    await dup('user_interactions', { user_id: 1, jav_id: 2, liked: true });
    await dup('watchlists', { user_id: 1, jav_id: 2 });
    await dup('featured_items', { item_type: 'movie', item_id: 1, group: 'home', rank: 1 });
    await dup('jav', { code: 'ABC-001', title: 'x', provider: 'y' });
    // Signed counters: the flusher's negative like delta must not error out.
    await t
      .db('jav')
      .where({ code: 'ABC-001' })
      .update({ likes: t.db.raw('likes + ?', [-1]) });
    expect(await t.db('jav').where({ code: 'ABC-001' }).first('likes')).toEqual({ likes: -1 });
  });

  it('rolls everything back and leaves an empty database', async () => {
    expect(await migrateRollbackAll(t.db)).toEqual([...NAMES].reverse());
    expect(await tables(t.db)).toEqual([]);
  });
});

describe('migrations over a web app that already has its own jav table', () => {
  let t: TempDatabase;
  beforeAll(async () => {
    t = await createTempDatabase(MYSQL_URL);
    // The web app's jav: INT ids, no downloads/likes/counts_updated_at, latin1 — nothing like ours.
    await t.db.raw(`CREATE TABLE jav (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, dvd_id VARCHAR(20) NOT NULL,
      title VARCHAR(255) NOT NULL, views INT NOT NULL DEFAULT 0, KEY jav_views (views)) ENGINE=InnoDB DEFAULT CHARSET=latin1`);
    await t.db('jav').insert([
      { dvd_id: 'OLD-001', title: 'Kept', views: 10 },
      { dvd_id: 'OLD-002', title: 'Also kept', views: 3 },
    ]);
  });
  afterAll(() => t.drop());

  it('adds only the missing pipeline columns and index, and rollback restores the table exactly', async () => {
    const createBefore = await showCreate(t.db, 'jav');
    const rowsBefore = await t.db('jav').orderBy('id');
    await migrateLatest(t.db);
    const createAfter = await showCreate(t.db, 'jav');
    // Display widths: MariaDB prints bigint(20), MySQL 8.0.19+ prints bigint.
    expect(createAfter).toMatch(/`downloads` bigint(\(20\))? NOT NULL DEFAULT '?0'?/);
    expect(createAfter).toMatch(/`counts_updated_at` datetime\(3\) DEFAULT NULL/);
    expect(createAfter).toContain(JAV_COUNTS_INDEX);
    expect(createAfter).toMatch(/`views` int(\(11\))? NOT NULL/); // its own column, untouched
    expect(await t.db(OWNERSHIP_TABLE).where({ table_name: 'jav' }).orderBy('object_name').pluck('object_name')).toEqual([
      'counts_updated_at',
      'downloads',
      JAV_COUNTS_INDEX,
      'likes',
      'rating_count',
      'rating_sum',
      'watchlists',
    ]);
    expect((await tables(t.db)).length).toBe(WEB_APP_TABLES.length + TALLY_TABLES.length + 2);

    await migrateRollbackAll(t.db);
    expect(await tables(t.db)).toEqual(['jav']);
    expect(await showCreate(t.db, 'jav')).toBe(createBefore);
    expect(await t.db('jav').orderBy('id')).toEqual(rowsBefore);
  });
});

describe('migrations without web-app tables (CATALOG_MAPPING set: the app owns its tables)', () => {
  const ADOPT = { webAppTables: false };
  let t: TempDatabase;
  afterEach(() => t.drop());

  it('on an empty database create only Tally’s tables, and roll back to an empty database', async () => {
    t = await createTempDatabase(MYSQL_URL);
    expect(await migrateLatest(t.db, ADOPT)).toEqual(NAMES);
    expect(await migrationStatus(t.db, ADOPT)).toEqual({ completed: NAMES, pending: [] });
    expect(await tables(t.db)).toEqual([...TALLY_TABLES, MIGRATIONS_TABLE, `${MIGRATIONS_TABLE}_lock`].sort());
    expect(await t.db(OWNERSHIP_TABLE).count({ n: '*' }).first()).toEqual({ n: 0 });
    expect(await migrateRollbackAll(t.db, ADOPT)).toEqual([...NAMES].reverse());
    expect(await tables(t.db)).toEqual([]);
  });

  it("never touch the app's tables in the same database: not a column added, not a row changed, not dropped by rollback", async () => {
    t = await createTempDatabase(MYSQL_URL);
    // The app's jav (no likes/counts_updated_at: the demo migration would add them) and a users table.
    await t.db.raw(
      'CREATE TABLE jav (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, dvd_id VARCHAR(20) NOT NULL, views INT NOT NULL DEFAULT 0) ENGINE=InnoDB',
    );
    await t.db.raw('CREATE TABLE users (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, name VARCHAR(50) NOT NULL) ENGINE=InnoDB');
    await t.db('jav').insert([
      { dvd_id: 'APP-001', views: 7 },
      { dvd_id: 'APP-002', views: 0 },
    ]);
    await t.db('users').insert({ name: 'real user' });
    const snapshot = async () => ({
      jav: [await showCreate(t.db, 'jav'), await t.db('jav').orderBy('id')],
      users: [await showCreate(t.db, 'users'), await t.db('users').orderBy('id')],
    });
    const before = await snapshot();

    await migrateLatest(t.db, ADOPT);
    expect(await snapshot()).toEqual(before);
    const created = (await tables(t.db)).filter((x) => !['jav', 'users'].includes(x));
    expect(created).toEqual([...TALLY_TABLES, MIGRATIONS_TABLE, `${MIGRATIONS_TABLE}_lock`].sort());

    await migrateRollbackAll(t.db, ADOPT);
    expect(await tables(t.db)).toEqual(['jav', 'users']);
    expect(await snapshot()).toEqual(before);
  });

  it('roll back without dropping a table an earlier demo-mode run created: it may hold the app’s data now', async () => {
    t = await createTempDatabase(MYSQL_URL);
    await migrateLatest(t.db); // demo mode: creates jav, users, … and records them as Tally's
    await t.db('users').insert({ username: 'since adopted', email: 'a@example.test' });
    await migrateRollbackAll(t.db, ADOPT);
    expect(await tables(t.db)).toEqual([...WEB_APP_TABLES, OWNERSHIP_TABLE].sort());
    expect(await t.db('users').pluck('username')).toEqual(['since adopted']);
  });
});
