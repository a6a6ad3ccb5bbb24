import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Catalog, DEMO_MAPPING, loadCatalogMapping, parseCatalogMapping } from './index';

describe('catalog mapping', () => {
  it('defaults to the demo schema, so a file names only what differs', () => {
    const m = parseCatalogMapping({ database: 'app', movies: { display: { code: 'dvd_id', provider: null } }, interactions: { shape: { kind: 'actions' } } });
    expect(m.movies).toMatchObject({ table: 'jav', id: 'id', display: { code: 'dvd_id', title: 'title', provider: null, release_date: 'release_date' }, counts: { likes: 'likes' } });
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
    const app = new Catalog(parseCatalogMapping({ database: 'app', movies: { display: { code: 'dvd_id', provider: null } }, interactions: { shape: { kind: 'actions', like: 'fav' } } }));
    expect(app.table('movies')).toBe('app.jav');
    expect(app.sql('history')).toBe('`app`.`user_jav_history`');
    expect(app.movieDisplaySelect()).toBe('m.`id` AS id, m.`dvd_id` AS code, m.`title` AS title, NULL AS provider, m.`release_date` AS release_date');
    expect(app.likedPairs()).toEqual({ sql: 'SELECT `user_id` AS user_id, `jav_id` AS jav_id FROM `app`.`user_interactions` WHERE `action` = ?', bindings: ['fav'] });
    const demo = new Catalog();
    expect(demo.table('movies')).toBe('jav');
    expect(demo.likedPairs().sql).toMatch(/WHERE `liked` = 1$/);
  });
});
