import { createTempDatabase, migrateLatest, type TempDatabase } from '@tally/db';
import { EVENT_TYPES, eventDefinition } from '@tally/events';
import { NOT_STORED, TABLE_COLUMNS, TABLE_FOR_TYPE } from '@tally/event-logger/handler';
import { env } from '../helpers/env';

// The unit test checks the event-logger's mapping covers every schema field; this one checks the
// migrated MySQL tables really have those columns, so a new field cannot reach a raw log that lacks it.
let temp: TempDatabase;

beforeAll(async () => {
  temp = await createTempDatabase(env.MYSQL_URL, 'tally_test_rawcols');
  await migrateLatest(temp.db);
}, 60_000);

afterAll(async () => {
  await temp?.drop();
});

async function columnsOf(table: string): Promise<Set<string>> {
  const rows: { name: string }[] = await temp
    .db('information_schema.columns')
    .where({ table_schema: temp.db.raw('DATABASE()'), table_name: table })
    .select({ name: 'column_name' });
  return new Set(rows.map((r) => r.name));
}

describe('raw-log tables after the migrations', () => {
  it('have a column for every stored field of every event type', async () => {
    const missing: string[] = [];
    for (const type of EVENT_TYPES) {
      const table = TABLE_FOR_TYPE[type];
      const columns = await columnsOf(table);
      for (const field of eventDefinition(type).avroType.fields.map((f) => f.name)) {
        if (NOT_STORED[field] === undefined && !columns.has(field)) missing.push(`${type}.${field} → ${table}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it("have every column the event-logger's INSERT names", async () => {
    const missing: string[] = [];
    for (const [table, wanted] of Object.entries(TABLE_COLUMNS)) {
      const columns = await columnsOf(table);
      for (const c of wanted) if (!columns.has(c)) missing.push(`${table}.${c}`);
    }
    expect(missing).toEqual([]);
  });
});
