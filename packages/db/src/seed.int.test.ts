import { baseConfigSchema, loadConfig } from '@tally/config';
import { migrateLatest } from './migrate';
import { MIGRATIONS } from './migrations';
import { runDbCommand } from './bin';
import { seedDemo, type SeedOptions } from './seed';
import { SEEDED_TABLES, RESET_BY_SEED_TABLES } from './tables';
import { serverChecksum, tableDigest } from './testing/table-digest';
import { createTempDatabase, type TempDatabase } from './testing/temp-database';

const { MYSQL_URL } = loadConfig(baseConfigSchema);
const opts: SeedOptions = { movies: 2500, actors: 300, tags: 70, users: 150, seed: 42 };

async function snapshot(t: TempDatabase): Promise<Record<string, { rows: number; sha256: string; checksum: string }>> {
  const out: Record<string, { rows: number; sha256: string; checksum: string }> = {};
  for (const table of SEEDED_TABLES) out[table] = { ...(await tableDigest(t.db, table)), checksum: await serverChecksum(t.db, table) };
  return out;
}

describe('seedDemo on a migrated database', () => {
  let t: TempDatabase;
  beforeAll(async () => {
    t = await createTempDatabase(MYSQL_URL);
    await migrateLatest(t.db);
  });
  afterAll(() => t.drop());

  it('writes the generated counts, and a re-run with the same arguments leaves identical rows', async () => {
    const report = await seedDemo(t.db, opts);
    const first = await snapshot(t);
    expect(first.jav!.rows).toBe(opts.movies);
    expect(first.actors!.rows).toBe(opts.actors);
    expect(first.users!.rows).toBe(opts.users);
    for (const table of SEEDED_TABLES) expect(first[table]!.rows).toBe(report.rows[table]);
    expect(report.rows.jav_actors).toBeGreaterThanOrEqual(opts.movies);
    expect(report.rows.jav_actors).toBeLessThanOrEqual(4 * opts.movies);

    await seedDemo(t.db, opts);
    expect(await snapshot(t)).toEqual(first);
  });

  it('never touches raw event logs, and empties the user state the new ids would orphan', async () => {
    const event = {
      event_id: '5e0a3c1e-6f0a-4d2b-9c61-5a1f2e3d4c5b',
      jav_id: 1,
      occurred_at: '2025-01-01 00:00:00.000',
      received_at: '2025-01-01 00:00:00.000',
    };
    await t.db('view_events').insert(event);
    await t.db('user_jav_history').insert({ user_id: 1, jav_id: 1, view_count: 3 });
    await t.db('counter_offsets').insert({ topic: 'views', partition: 0, offset: 99 });
    await seedDemo(t.db, opts);
    expect(await t.db('view_events').pluck('event_id')).toEqual([event.event_id]);
    expect(await t.db('counter_offsets').pluck('offset')).toEqual([99]);
    for (const table of RESET_BY_SEED_TABLES) expect(await t.db(table).count({ n: '*' }).first()).toEqual({ n: 0 });
  });

  it('gives different data for a different seed, and a smaller re-run leaves no leftovers', async () => {
    const before = await snapshot(t);
    await seedDemo(t.db, { ...opts, seed: 43 });
    const other = await snapshot(t);
    expect(other.jav!.rows).toBe(before.jav!.rows);
    expect(other.jav!.sha256).not.toBe(before.jav!.sha256);
    expect(other.jav_tags!.sha256).not.toBe(before.jav_tags!.sha256);

    await seedDemo(t.db, { ...opts, movies: 100 });
    expect(await t.db('jav').max({ id: 'id' }).first()).toEqual({ id: 100 });
    expect(await t.db('jav_actors').where('jav_id', '>', 100).count({ n: '*' }).first()).toEqual({ n: 0 });
  });

  it('stores the seeded values exactly (UTC timestamps, dates, booleans)', async () => {
    await seedDemo(t.db, opts);
    const movie = await t.db('jav').where({ id: 1 }).first();
    expect(movie.created_at.toISOString()).toBe('2025-01-01T00:00:01.000Z');
    expect(movie.counts_updated_at.toISOString()).toBe('2025-01-01T00:00:01.000Z');
    const inactive = await t.db('featured_items').where({ active: false }).count({ n: '*' }).first();
    expect(Number(inactive?.n)).toBe(5); // the last slot of each of the 5 groups
  });

  it('runs through the CLI command runner too', async () => {
    const lines = await runDbCommand(t.db, { command: 'seed', options: { ...opts, movies: 10 } });
    expect(lines[0]).toMatch(/^seeded \(seed 42\) in \d+ ms$/);
    expect(lines).toContain('  jav: 10');
    expect(await runDbCommand(t.db, { command: 'migrate', action: 'status' })).toEqual(MIGRATIONS.map((m) => `applied  ${m.name}`));
  });

  it("refuses to seed through the runner when the web-app tables are not the demo's", async () => {
    await expect(runDbCommand(t.db, { command: 'seed', options: opts }, { webAppTables: false })).rejects.toMatchObject({
      code: 'DB_SEED_APP_CATALOG',
    });
    expect(await t.db('jav').count({ n: '*' }).first()).toEqual({ n: 10 });
  });
});

describe("seedDemo over the web app's own tables", () => {
  let t: TempDatabase;
  beforeAll(async () => {
    t = await createTempDatabase(MYSQL_URL);
    await t.db.raw('CREATE TABLE jav (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, title VARCHAR(255) NOT NULL) ENGINE=InnoDB');
    await t.db('jav').insert({ title: 'real movie' });
    await migrateLatest(t.db);
  });
  afterAll(() => t.drop());

  it('refuses to truncate a table the migrations did not create', async () => {
    await expect(seedDemo(t.db, opts)).rejects.toMatchObject({ code: 'DB_SEED_FOREIGN_TABLE', message: expect.stringContaining('jav') });
    expect(await t.db('jav').pluck('title')).toEqual(['real movie']);
    expect(await t.db('actors').count({ n: '*' }).first()).toEqual({ n: 0 });
  });
});
