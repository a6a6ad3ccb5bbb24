import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Knex } from 'knex';
import { ConfigError } from '@tally/config';
import { createLogger, TallyError } from '@tally/runtime';
import { catalogFromConfig, checkCatalogAtStart, DEMO_CATALOG } from './index';

const logger = createLogger({ service: 'catalog-test', level: 'silent' });

/** A MySQL that refuses `failures` queries, then answers information_schema: database `shop`, with no tables at all. */
function fakeDb(failures: number): Knex {
  let calls = 0;
  const raw = async (sql: string) => {
    if (calls++ < failures) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:3306'), { code: 'ECONNREFUSED' });
    if (sql.includes('DATABASE()')) return [[{ db: 'shop' }]];
    return sql.includes('SCHEMATA') ? [[{ 1: 1 }]] : [[]];
  };
  return { raw } as unknown as Knex;
}

describe('catalogFromConfig', () => {
  it('is the demo catalog without CATALOG_MAPPING, and names CATALOG_MAPPING as an invalid setting otherwise', () => {
    expect(catalogFromConfig({}).mapping).toBe(DEMO_CATALOG.mapping);
    const dir = mkdtempSync(join(tmpdir(), 'catalog-start-'));
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ movies: { id: 'no such' } }));
    let err: unknown;
    try {
      catalogFromConfig({ CATALOG_MAPPING: join(dir, 'bad.json') });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toBe(
      `invalid configuration:\n  CATALOG_MAPPING: ${join(dir, 'bad.json')} is invalid:\n    movies.id: must be a MySQL identifier: letters, digits, "_" or "$", at most 64, not starting with a digit`,
    );
    expect(() => catalogFromConfig({ CATALOG_MAPPING: join(dir, 'none.json') })).toThrow(
      /^invalid configuration:\n {2}CATALOG_MAPPING: cannot read .*none\.json/,
    );
  });
});

describe('checkCatalogAtStart', () => {
  it('throws a mismatch found at once (the service does not start)', async () => {
    const onMismatch = jest.fn();
    await expect(checkCatalogAtStart(fakeDb(0), DEMO_CATALOG, ['users'], { logger, onMismatch })).rejects.toMatchObject({
      code: 'CATALOG_MISMATCH',
      message: expect.stringContaining('table shop.users (users.table) does not exist'),
    });
    expect(onMismatch).not.toHaveBeenCalled();
  });

  it('with MySQL unreachable, starts and keeps checking; the mismatch found later goes to onMismatch', async () => {
    let reported!: (err: TallyError) => void;
    const found = new Promise<TallyError>((r) => (reported = r));
    const check = await checkCatalogAtStart(fakeDb(3), DEMO_CATALOG, ['users'], { logger, onMismatch: (err) => reported(err), retryMs: 1 });
    const err = await found;
    check.stop();
    expect(err).toMatchObject({ code: 'CATALOG_MISMATCH', retriable: false });
  });
});
