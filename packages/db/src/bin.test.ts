import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from './bin';

/** Runs main with a private environment; MYSQL_URL points nowhere, so any connection attempt would fail with exit 1, not 2. */
async function run(argv: string[], env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(
    argv,
    (l: string) => out.push(l),
    (l: string) => err.push(l),
    { MYSQL_URL: 'mysql://nobody:none@127.0.0.1:1/none', ...env },
  );
  return { code, out, err: err.join('\n') };
}

describe('main (usage and configuration errors never open a connection)', () => {
  it('exits with 2 and prints the reason and the usage', async () => {
    const { code, out, err } = await run(['seed', '--movies', 'lots']);
    expect(code).toBe(2);
    expect(out).toEqual([]);
    expect(err).toMatch(/^--movies must be a positive whole number .*got "lots"\nusage:/);
  });

  it('refuses to seed when CATALOG_MAPPING maps the app’s own tables (exit 2, naming the file and the database)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'db-bin-'));
    const app = join(dir, 'app.json');
    writeFileSync(app, JSON.stringify({ database: 'shop' }));
    const shared = join(dir, 'shared.json');
    writeFileSync(shared, JSON.stringify({ movies: { display: { code: 'dvd_id' } } }));
    const a = await run(['seed', '--movies', '10'], { CATALOG_MAPPING: app });
    expect(a.code).toBe(2);
    expect(a.err).toContain(
      `refusing to seed: CATALOG_MAPPING (${app}) maps the web app's own tables (database shop), and seeding truncates and refills them`,
    );
    // A mapping without a database is an app in MYSQL_URL's own database: refused just the same.
    const s = await run(['seed'], { CATALOG_MAPPING: shared });
    expect(s.code).toBe(2);
    expect(s.err).toContain("(in MYSQL_URL's database)");
  });

  it('exits with 2 on an unreadable or invalid mapping, for migrate too', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'db-bin-'));
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ movies: { counts: { likes: 'likes count' } } }));
    expect(await run(['migrate'], { CATALOG_MAPPING: bad })).toMatchObject({
      code: 2,
      err: expect.stringMatching(/movies\.counts\.likes: must be a MySQL identifier/),
    });
    expect(await run(['migrate'], { CATALOG_MAPPING: join(dir, 'missing.json') })).toMatchObject({
      code: 2,
      err: expect.stringMatching(/CATALOG_MAPPING: cannot read/),
    });
  });
});
