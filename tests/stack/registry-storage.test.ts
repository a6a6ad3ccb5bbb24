import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { eventSchemaCatalog, RegistryCodec } from '@tally/kafka';
import { EVENT_TYPES } from '@tally/events';
import { createTopic, deleteTopics, produceRaw, readTopic } from '../helpers/kafka';
import { uniqueName } from '../helpers/env';
import { testPort } from '../helpers/services';

// The stack's Apicurio keeps schemas, versions and ids in MariaDB (SQL storage, database `apicurio`):
// a restart — of the registry alone, or of the whole stack — hands back every id it ever gave out,
// so messages written with an older version of a schema stay readable. With in-memory storage the
// catalog came back with other ids as soon as a subject had two versions.
//
// This file runs its own MariaDB and Apicurio with the stack script (own STACK_DIR and ports; fresh
// data, so the first `up` is the one a machine without the registry's database sees) and restarts
// them; the shared stack is never touched. Kafka is the shared one (a throwaway topic).
const run = promisify(execFile);
const CLI = resolve(__dirname, '../../stack/stack');
const stackDir = mkdtempSync(join(tmpdir(), 'tally-registry-storage-'));
const ports = { MYSQL_PORT: testPort(17_100), REGISTRY_PORT: testPort(17_300), REGISTRY_MANAGEMENT_PORT: testPort(17_500) };
const registryUrl = `http://127.0.0.1:${ports.REGISTRY_PORT}/apis/ccompat/v7`;
const prefix = `${uniqueName('regstore')}.`;
const topic = `${prefix}registry-storage`;

async function stack(...args: string[]): Promise<{ out: string; err: string; ms: number }> {
  const t0 = Date.now();
  const { stdout, stderr } = await run('bash', [CLI, ...args], {
    env: { ...process.env, STACK_DIR: stackDir, ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])) },
    timeout: 240_000,
  });
  return { out: stdout, err: stderr, ms: Date.now() - t0 };
}

/** The private MariaDB as root (its socket), for what the registry's own user may not see. */
async function rootSql(sql: string): Promise<string> {
  const { stdout } = await run('mariadb', [
    '--no-defaults',
    `--socket=${join(stackDir, 'run', 'mariadb.sock')}`,
    '-uroot',
    '-N',
    '-e',
    sql,
  ]);
  return stdout.trim();
}

async function registry<T>(path: string, init: RequestInit = {}): Promise<{ status: number; body: T }> {
  const res = await fetch(`${registryUrl}${path}`, {
    ...init,
    headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
    signal: AbortSignal.timeout(10_000),
  });
  return { status: res.status, body: (await res.json()) as T };
}

// movie.viewed, evolved the BACKWARD way: v2 adds a field with a default, so v2 readers read v1 data.
const catalog = eventSchemaCatalog(prefix);
const evolved = catalog.find((c) => c.subject.endsWith('movie.viewed-value'))!;
const v1 = (typeof evolved.schema === 'string' ? JSON.parse(evolved.schema) : evolved.schema) as { fields: object[] };
const v2 = { ...v1, fields: [...v1.fields, { name: 'player', type: 'string', default: 'web' }] };

interface Written {
  id: number;
  value: Buffer;
}

/** What a restart must not change: every subject's versions and ids, and the schema behind each id. */
async function registryState(): Promise<{
  subjects: Record<string, number[]>;
  schemas: Record<number, string>;
  ids: Record<string, number>;
}> {
  const subjects: Record<string, number[]> = {};
  const schemas: Record<number, string> = {};
  for (const { subject } of catalog) {
    const res = await registry<number[]>(`/subjects/${encodeURIComponent(subject)}/versions`);
    const versions = res.status === 404 ? [] : res.body; // a registry that lost the subject
    subjects[subject] = versions;
    for (const v of versions) {
      const { id, schema } = (await registry<{ id: number; schema: string }>(`/subjects/${encodeURIComponent(subject)}/versions/${v}`))
        .body;
      schemas[id] = schema;
    }
  }
  const ids = Object.fromEntries(await new RegistryCodec(registryUrl, { catalog }).lookupCatalog());
  return { subjects, schemas, ids };
}

/** Decodes every message with a codec that knows nothing yet and no catalog (no repair path): the registry alone must know each id. */
async function decodeAll(written: Written[]): Promise<void> {
  const records = await readTopic(topic, written.length, 30_000);
  const codec = new RegistryCodec(registryUrl);
  expect(records).toHaveLength(written.length);
  for (const [i, r] of records.entries()) {
    const { schemaId, value } = await codec.decode(r.value);
    const writer = (await codec.registry.getSchema(schemaId)) as unknown as { toBuffer(v: unknown): Buffer };
    // The same bytes again from the decoded value: read with the very schema it was written with.
    expect({
      i,
      schemaId,
      same: r.value!.equals(written[i]!.value),
      roundTrip: writer.toBuffer(value).equals(r.value!.subarray(5)),
    }).toEqual({ i, schemaId: written[i]!.id, same: true, roundTrip: true });
  }
}

// The first `up`, on a MariaDB data directory created now: what a machine without the registry's
// database sees. Both tests need the servers it starts.
let firstUp: { err: string; ms: number };
beforeAll(async () => {
  firstUp = await stack('up', 'mariadb', 'registry');
}, 300_000);

afterAll(async () => {
  await stack('down', 'registry', 'mariadb').catch(() => undefined);
  await deleteTopics([topic]).catch(() => undefined);
  rmSync(stackDir, { recursive: true, force: true });
}, 120_000);

describe('the stack registry keeps its schemas in MariaDB', () => {
  it('on a MariaDB without the registry database, `up` creates it and its user (only its own database), then starts the registry; idempotent', async () => {
    expect(firstUp.err).toMatch(/mariadb healthy on 127\.0\.0\.1:\d+/);
    expect(firstUp.err).toMatch(/registry healthy on 127\.0\.0\.1:\d+/);
    console.log(`fresh mariadb + registry up in ${firstUp.ms} ms`);
    expect((await rootSql('SHOW DATABASES')).split('\n')).toContain('apicurio');
    expect(await rootSql("SHOW GRANTS FOR 'apicurio'@'127.0.0.1'")).toContain('ON `apicurio`.*');
    expect(await rootSql("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'apicurio'")).not.toBe('0');

    const again = await stack('up', 'mariadb', 'registry');
    expect(again.err).toContain('mariadb already running');
    expect(again.err).toContain('registry already running');
    expect((await registry<{ compatibilityLevel: string }>('/config')).body.compatibilityLevel).toBe('BACKWARD');
  }, 300_000);

  it('a subject with two versions and messages written with every id: after restarting the registry, then the whole stack, the same ids and every message decoded', async () => {
    const codec = new RegistryCodec(registryUrl, { catalog });
    const first = await codec.ensureCatalog();
    expect(first.ids.size).toBe(EVENT_TYPES.length);
    const v1Id = first.ids.get(evolved.subject)!;
    const v2Id = await codec.register(evolved.subject, v2);
    expect(v2Id).not.toBe(v1Id);
    // Still BACKWARD after the restarts below: a field without a default is refused.
    const incompatible = { ...v1, fields: [...v1.fields, { name: 'required_now', type: 'string' }] };
    await expect(codec.register(evolved.subject, incompatible)).rejects.toThrow(/refused/);

    // Three messages per catalog schema with its id, and three with v2's: random valid values.
    await createTopic(topic);
    const written: Written[] = [];
    for (const id of [...first.ids.values(), v2Id]) {
      const type = (await codec.registry.getSchema(id)) as unknown as {
        random(): unknown;
        encode(v: unknown, buf: Buffer, pos: number): number;
      };
      for (let n = 0; n < 3; n++) written.push({ id, value: codec.encodeValidated(id, type, type.random()) });
    }
    await produceRaw(
      topic,
      written.map(({ value }) => ({ value })),
    );
    const before = await registryState();
    expect(before.subjects[evolved.subject]).toEqual([1, 2]);
    expect(Object.keys(before.schemas)).toHaveLength(15);
    await decodeAll(written);

    const restarts: string[] = [];
    for (const what of ['registry alone', 'the whole stack'] as const) {
      const down = what === 'registry alone' ? await stack('down', 'registry') : await stack('down', 'registry', 'mariadb');
      expect(down.err).toContain('registry stopped');
      const up = await stack('up', 'mariadb', 'registry');
      restarts.push(`${what}: down ${down.ms} ms, up ${up.ms} ms`);
      expect({ what, state: await registryState() }).toEqual({ what, state: before });
      await decodeAll(written);
      expect(await codec.register(evolved.subject, v2)).toBe(v2Id);
      await expect(codec.register(evolved.subject, incompatible)).rejects.toThrow(/refused/);
      // What every service does at start: registering the catalog again changes no id.
      const again = await new RegistryCodec(registryUrl, { catalog }).ensureCatalog();
      expect({ what, ids: Object.fromEntries(again.ids), changed: again.changed }).toEqual({ what, ids: before.ids, changed: [] });
    }
    console.log(
      `ids before and after (catalog ${Object.values(before.ids).join(',')}; movie.viewed v2 ${v2Id}) identical across restarts: ${restarts.join('; ')}; ${written.length} messages decoded each time`,
    );

    // `reset registry` is the one way to empty it: its database is dropped and created again.
    await stack('reset', 'registry');
    await stack('up', 'registry');
    expect((await registry<string[]>('/subjects')).body).toEqual([]);
  }, 600_000);
});
