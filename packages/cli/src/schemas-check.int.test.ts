import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { baseConfigSchema, loadConfig } from '@tally/config';
import { compareWithRegistry, previousVersion } from './commands/schemas';

// The CI compatibility gate: each schema file against its previous committed version, judged by the
// real registry (Apicurio, BACKWARD).
const { SCHEMA_REGISTRY_URL } = loadConfig(baseConfigSchema);
const v1 = {
  type: 'record',
  name: 'MovieViewed',
  namespace: 'dev.tally.ci',
  fields: [
    { name: 'event_id', type: 'string' },
    { name: 'jav_id', type: 'long' },
  ],
};

function repoWith(schema: object): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), 'tally-schemas-git-'));
  const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, stdio: 'ignore' });
  git('init', '-q');
  const file = join(dir, 'movie-viewed.avsc');
  writeFileSync(file, JSON.stringify(schema, null, 2));
  git('add', '.');
  git('-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', 'v1');
  return { dir, file };
}

describe('schemas check --git', () => {
  it('finds the previous committed version of a changed file, and none for an unchanged new one', () => {
    const { dir, file } = repoWith(v1);
    expect(previousVersion(file, dir)).toBeUndefined(); // only one version, identical to the work tree
    writeFileSync(file, JSON.stringify({ ...v1, doc: 'changed' }));
    expect(JSON.parse(previousVersion(file, dir)!)).toEqual(v1);
  });

  it('passes a compatible change (new field with a default)', async () => {
    const next = { ...v1, fields: [...v1.fields, { name: 'source', type: ['null', 'string'], default: null }] };
    const r = await compareWithRegistry(SCHEMA_REGISTRY_URL, 'movie-viewed.avsc', v1, next);
    expect(r.compatible).toBe(true);
  });

  it('fails an incompatible change and names the field', async () => {
    const { dir, file } = repoWith(v1);
    const next = { ...v1, fields: [...v1.fields, { name: 'rating', type: 'int' }] };
    writeFileSync(file, JSON.stringify(next));
    const prev = JSON.parse(previousVersion(file, dir)!);
    const r = await compareWithRegistry(SCHEMA_REGISTRY_URL, 'movie-viewed.avsc', prev, next);
    expect(r.compatible).toBe(false);
    expect(r.message).toContain('movie-viewed.avsc: incompatible');
    expect(r.message).toContain("field 'rating' added without a default");
  });
});
