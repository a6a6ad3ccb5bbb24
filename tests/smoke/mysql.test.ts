import { createMysql } from '@tally/clients';
import { env, uniqueName } from '../helpers/env';

describe('smoke: MySQL protocol (MariaDB) through knex + mysql2', () => {
  const db = createMysql({ url: env.MYSQL_URL });
  const table = uniqueName('smoke');
  afterAll(async () => {
    await db.schema.dropTableIfExists(table);
    await db.destroy();
  });

  it('creates a table, inserts many rows at once, upserts and selects', async () => {
    await db.schema.createTable(table, (t) => {
      t.bigIncrements('id');
      t.uuid('event_id').notNullable().unique();
      t.bigInteger('views').notNullable().defaultTo(0);
      t.json('filters');
      t.timestamp('at', { precision: 3 }).notNullable();
    });
    const at = new Date('2026-01-02T03:04:05.678Z');
    const rows = Array.from({ length: 100 }, (_, i) => ({
      event_id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      views: i,
      filters: JSON.stringify({ tag: i }),
      at,
    }));
    await db(table).insert(rows);
    // INSERT IGNORE on the unique key: the idempotent write the event-logger relies on.
    await db(table).insert(rows.slice(0, 10)).onConflict('event_id').ignore();
    const [{ n }] = (await db(table).count({ n: '*' })) as [{ n: number }];
    expect(Number(n)).toBe(100);

    const top = await db(table).select('views', 'filters', 'at').orderBy('views', 'desc').first();
    expect(top.views).toBe(99);
    expect(typeof top.filters === 'string' ? JSON.parse(top.filters) : top.filters).toEqual({ tag: 99 });
    expect(new Date(top.at).toISOString()).toBe(at.toISOString());
  });
});
