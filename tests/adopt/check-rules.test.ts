import { Catalog, checkCatalog, DEMO_CATALOG, parseCatalogMapping, type CatalogPart, type CatalogReport } from '@tally/catalog';
import { createTempDatabase, migrateLatest, type TempDatabase } from '@tally/db';
import { env } from '../helpers/env';

// The rules of the catalog check beyond the fixture's four problems, each on a small table of its own
// (mapped by name, checked part by part) in one temp database.

const rules = (r: CatalogReport) => r.problems.map((p) => [p.table, p.column ?? null, p.rule]);

describe('the catalog check', () => {
  let t: TempDatabase;
  beforeAll(async () => {
    t = await createTempDatabase(env.MYSQL_URL);
  });
  afterAll(() => t.drop());

  const check = (doc: Record<string, unknown>, parts: CatalogPart[]) => checkCatalog(t.db, new Catalog(parseCatalogMapping(doc)), parts);

  it('on movies: counts must be INT/BIGINT and likes signed, the id a key by itself; ON UPDATE columns are a warning', async () => {
    await t.db
      .raw(`CREATE TABLE m1 (id BIGINT NOT NULL, uuid CHAR(36) NOT NULL PRIMARY KEY, code VARCHAR(20) NOT NULL, title VARCHAR(100) NOT NULL,
      views SMALLINT NOT NULL DEFAULT 0, downloads INT NOT NULL DEFAULT 0, likes INT UNSIGNED NOT NULL DEFAULT 0, rating_count INT NOT NULL DEFAULT 0, rating_sum INT NOT NULL DEFAULT 0, watchlists INT NOT NULL DEFAULT 0,
      counts_updated_at DATETIME(3) NULL,
      updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP, KEY jav_counts_updated_at_id_idx (counts_updated_at, id))`);
    const r = await check({ movies: { table: 'm1', display: { provider: null, release_date: null } } }, ['movies']);
    expect(rules(r)).toEqual([
      ['m1', 'id', 'unique_key'],
      ['m1', 'views', 'type'],
      ['m1', 'likes', 'signed'],
    ]);
    expect(r.problems[2]!.message).toMatch(/m1\.likes \(movies\.counts\.likes\) is int\(10\) unsigned: Tally adds negative deltas/);
    expect(r.warnings.map((w) => [w.column, w.rule])).toEqual([['updated_at', 'on_update']]);
    expect(r.ddl).toEqual([]);
  });

  it('on history: another unique key a new row can collide on, and columns too short for what Tally writes', async () => {
    await t.db.raw(`CREATE TABLE h1 (id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY, user_id BIGINT NOT NULL, jav_id BIGINT NOT NULL,
      view_count INT NOT NULL DEFAULT 0, first_viewed_at DATETIME NULL, last_viewed_at DATETIME NULL, ip VARCHAR(15) NULL, user_agent TINYTEXT NULL,
      downloaded TINYINT(1) NOT NULL DEFAULT 0, download_count INT NOT NULL DEFAULT 0, last_downloaded_at DATETIME NULL,
      share_code VARCHAR(20) NOT NULL DEFAULT '', public_slug VARCHAR(40) NULL,
      UNIQUE KEY h1_pair (user_id, jav_id), UNIQUE KEY h1_share (share_code), UNIQUE KEY h1_slug (public_slug), UNIQUE KEY h1_user_ip (user_id, ip))`);
    const r = await check({ history: { table: 'h1' } }, ['history']);
    // h1_slug is harmless (a column the sink leaves NULL never collides); h1_user_ip is not: the sink writes ip.
    expect(rules(r)).toEqual([
      ['h1', 'ip', 'length'],
      ['h1', 'user_agent', 'length'],
      ['h1', null, 'unique_key'],
      ['h1', null, 'unique_key'],
    ]);
    expect(r.problems.map((p) => p.message)).toEqual([
      'h1.ip (history.columns.ip) holds 15 characters, Tally writes up to 45',
      'h1.user_agent (history.columns.userAgent) holds 255 characters, Tally writes up to 512',
      expect.stringMatching(/^h1 has a unique key h1_share \(share_code\) that a new \(user, movie\) row can collide on/),
      expect.stringMatching(/^h1 has a unique key h1_user_ip \(user_id, ip\)/),
    ]);
  });

  it('on featured and interactions: an ENUM that cannot hold a mapped value, and stored values none of which the mapping names', async () => {
    await t.db.raw(
      `CREATE TABLE f1 (id INT AUTO_INCREMENT PRIMARY KEY, item_type ENUM('movie','actor') NOT NULL, item_id INT NOT NULL, \`group\` VARCHAR(20) NOT NULL, \`rank\` INT NOT NULL)`,
    );
    await t.db.raw(
      `CREATE TABLE i1 (user_id INT NOT NULL, jav_id INT NOT NULL, action VARCHAR(20) NOT NULL, value TINYINT NULL, PRIMARY KEY (user_id, jav_id, action))`,
    );
    await t.db('i1').insert([
      { user_id: 1, jav_id: 1, action: 'like' },
      { user_id: 1, jav_id: 2, action: 'like' },
      { user_id: 2, jav_id: 1, action: 'stars', value: 4 },
    ]);
    const r = await check(
      {
        featured: { table: 'f1', active: null, expiresAt: null },
        interactions: { table: 'i1', changedAt: null, shape: { kind: 'actions' } },
      },
      ['featured', 'interactions'],
    );
    expect(rules(r)).toEqual([
      ['f1', 'item_type', 'values'],
      ['i1', 'action', 'values'],
    ]);
    expect(r.problems[0]!.message).toBe(
      "f1.item_type (featured.itemType) is enum('movie','actor') and cannot hold 'tag': no row would ever match",
    );
    expect(r.problems[1]!.message).toBe(
      "i1.action holds none of the values interactions.shape.like/rate names ('favorite', 'rating'), only 'like' (2 rows), 'stars' (1 row)",
    );
    // Mapped to what the app stores, it is clean.
    const fixed = await check(
      {
        featured: { table: 'f1', active: null, expiresAt: null, itemTypes: { tag: 'actor' } },
        interactions: { table: 'i1', changedAt: null, shape: { kind: 'actions', like: 'like', rate: 'stars' } },
      },
      ['featured', 'interactions'],
    );
    expect(fixed.problems).toEqual([]);
    expect(fixed.warnings).toEqual([]);
  });

  it('a mapping.database that does not exist is a configuration error, not ten missing tables', async () => {
    await expect(check({ database: 'no_such_app_db_7f3a' }, ['movies'])).rejects.toMatchObject({
      code: 'CATALOG_MAPPING_INVALID',
      message: expect.stringContaining('no_such_app_db_7f3a does not exist'),
    });
  });

  it('the demo schema, as the migrations create it, is clean (only the ON UPDATE warning on jav.updated_at)', async () => {
    const demo = await createTempDatabase(env.MYSQL_URL);
    try {
      await migrateLatest(demo.db);
      const r = await checkCatalog(demo.db, DEMO_CATALOG);
      expect(r.problems).toEqual([]);
      expect(r.ddl).toEqual([]);
      expect(r.warnings.map((w) => `${w.table}.${w.column} ${w.rule}`)).toEqual(['jav.updated_at on_update']);
    } finally {
      await demo.drop();
    }
  });
});
