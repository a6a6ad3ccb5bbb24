import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adoptsApp, Catalog, DEMO_MAPPING, loadCatalogMapping, parseCatalogMapping } from './index';
import { charCapacity, enumValues } from './needs';

describe('catalog mapping', () => {
  it('defaults to the demo schema, so a file names only what differs', () => {
    const m = parseCatalogMapping({
      database: 'app',
      movies: { display: { code: 'dvd_id', provider: null } },
      interactions: { shape: { kind: 'actions' } },
    });
    expect(m.movies).toMatchObject({
      table: 'jav',
      id: 'id',
      display: { code: 'dvd_id', title: 'title', provider: null, release_date: 'release_date' },
      counts: { likes: 'likes' },
    });
    expect(m.interactions.shape).toEqual({ kind: 'actions', action: 'action', like: 'favorite', rate: 'rating', value: 'value' });
    expect(m.redis).toEqual({ prefix: 'jav:', featuredTtlSeconds: 600 });
    expect(DEMO_MAPPING.database).toBeNull();
  });

  it('names each bad field by its path, and unknown keys (typos) too', () => {
    expect(() => parseCatalogMapping({ movies: { display: { code: 'dvd id' } }, histroy: {}, redis: { prefix: '' } })).toThrow(
      /movies\.display\.code: must be a MySQL identifier[\s\S]*redis\.prefix: must be 1-64[\s\S]*\(document\): unknown key histroy/,
    );
  });

  it('reads CATALOG_MAPPING from a JSON file and says which file is wrong', () => {
    const dir = mkdtempSync(join(tmpdir(), 'catalog-'));
    writeFileSync(join(dir, 'ok.json'), JSON.stringify({ database: 'shop' }));
    writeFileSync(join(dir, 'bad.json'), '{ "database": ');
    expect(loadCatalogMapping(join(dir, 'ok.json')).database).toBe('shop');
    expect(loadCatalogMapping(undefined)).toBe(DEMO_MAPPING);
    expect(() => loadCatalogMapping(join(dir, 'bad.json'))).toThrow(/CATALOG_MAPPING: .*bad\.json is not JSON/);
    expect(() => loadCatalogMapping(join(dir, 'none.json'))).toThrow(/CATALOG_MAPPING: cannot read .*none\.json/);
  });

  it('qualifies app tables with the app database and builds the shared SQL fragments', () => {
    const app = new Catalog(
      parseCatalogMapping({
        database: 'app',
        movies: { display: { code: 'dvd_id', provider: null } },
        interactions: { shape: { kind: 'actions', like: 'fav' } },
      }),
    );
    expect(app.table('movies')).toBe('app.jav');
    expect(app.sql('history')).toBe('`app`.`user_jav_history`');
    expect(app.movieDisplaySelect()).toBe(
      'm.`id` AS id, m.`dvd_id` AS code, m.`title` AS title, NULL AS provider, m.`release_date` AS release_date',
    );
    expect(app.likedPairs()).toEqual({
      sql: 'SELECT `user_id` AS user_id, `jav_id` AS jav_id FROM `app`.`user_interactions` WHERE `action` = ?',
      bindings: ['fav'],
    });
    const demo = new Catalog();
    expect(demo.table('movies')).toBe('jav');
    expect(demo.likedPairs().sql).toMatch(/WHERE `liked` = 1$/);
  });

  it('refuses a column Tally writes named twice in its table (two counts in one column, a count over a key)', () => {
    expect(() => parseCatalogMapping({ movies: { counts: { downloads: 'views' } } })).toThrow(
      /movies\.counts\.downloads: names the same column \(views\) as movies\.counts\.views/,
    );
    expect(() => parseCatalogMapping({ movies: { countsUpdatedAt: 'id' } })).toThrow(
      /movies\.countsUpdatedAt: names the same column \(id\) as movies\.id/,
    );
    expect(() => parseCatalogMapping({ history: { columns: { viewCount: 'user_id' } } })).toThrow(
      /history\.columns\.viewCount: names the same column \(user_id\) as history\.user/,
    );
    // Read-only columns may share (a title shown as the code too), and null never collides.
    expect(parseCatalogMapping({ movies: { display: { code: 'title', provider: null, release_date: null } } }).movies.display.code).toBe(
      'title',
    );
  });

  it('adopts an app whenever a mapping file is set, even one whose database is null', () => {
    expect(adoptsApp({})).toBe(false);
    expect(adoptsApp({ CATALOG_MAPPING: '/etc/tally/mapping.json' })).toBe(true);
  });
});

describe('column type parsing', () => {
  it('reads ENUM values with quotes and backslashes as information_schema prints them', () => {
    expect(enumValues("enum('movie','actor','o''brien','a\\\\b')")).toEqual(['movie', 'actor', "o'brien", 'a\\b']);
    expect(enumValues('varchar(20)')).toBeNull();
  });

  it('knows how many characters a string column holds', () => {
    expect(charCapacity('varchar(45)', 'varchar')).toBe(45);
    expect(charCapacity('char(36)', 'char')).toBe(36);
    expect(charCapacity('tinytext', 'tinytext')).toBe(255);
    expect(charCapacity('text', 'text')).toBe(65_535);
  });
});
