import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

/**
 * The services on the event path load only the store clients they use. The MongoDB driver (with
 * bson, which allocates a 17 MB buffer when loaded) and the Elasticsearch client came in through a
 * package index (@tally/db's loads the CLI) and cost each consumer about 40 MB of RSS (#19). What a
 * service loads is what its compiled main.ts imports: each of those is required in a fresh node.
 */
const ROOT = resolve(__dirname, '../..');
const SERVICES = ['counter', 'event-logger', 'history', 'ingest-api'];

function loadedBy(service: string): { imports: string[]; loaded: string[] } {
  const dir = resolve(ROOT, 'services', service);
  const main = readFileSync(resolve(dir, 'src/main.ts'), 'utf8');
  const imports = [...main.matchAll(/^import (?!type\b)[^;]*? from '([^']+)';/gms)].map((m) => m[1]!);
  const paths = imports.map((spec) => (spec.startsWith('.') ? resolve(dir, 'dist', `${spec}.js`) : spec));
  const script = `for (const p of ${JSON.stringify(paths)}) require(p); process.stdout.write(JSON.stringify(Object.keys(require.cache)));`;
  const out = execFileSync(process.execPath, ['-e', script], { cwd: dir, encoding: 'utf8' });
  return { imports, loaded: JSON.parse(out) as string[] };
}

describe('module footprint of the event-path services', () => {
  it.each(SERVICES.map((s) => [s]))('%s loads neither the MongoDB nor the Elasticsearch client', (service) => {
    const { imports, loaded } = loadedBy(service);
    expect(imports.length).toBeGreaterThan(4);
    // The check sees the service's own modules (the runner, the store clients it does use).
    expect(loaded.some((f) => f.includes('/kafkajs/'))).toBe(true);
    expect(loaded.filter((f) => /node_modules\/(mongodb|bson|@elastic\/elasticsearch)\//.test(f))).toEqual([]);
  });

  it('the check would see a package index that loads them', () => {
    const out = execFileSync(
      process.execPath,
      ['-e', "require('@tally/db'); process.stdout.write(JSON.stringify(Object.keys(require.cache)))"],
      {
        cwd: resolve(ROOT, 'services/counter'),
        encoding: 'utf8',
      },
    );
    expect((JSON.parse(out) as string[]).some((f) => f.includes('node_modules/mongodb/'))).toBe(true);
  });
});
