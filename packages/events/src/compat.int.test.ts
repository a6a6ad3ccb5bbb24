import { randomUUID } from 'node:crypto';
import { baseConfigSchema, loadConfig } from '@tally/config';
import { checkCompatibility } from './compat';
import { eventDefinitions } from './catalog';

const { SCHEMA_REGISTRY_URL: registry } = loadConfig(baseConfigSchema);
const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';

const v1 = {
  type: 'record',
  name: 'CompatProbe',
  namespace: 'dev.tally.test',
  doc: 'Throwaway schema for the compatibility test.',
  fields: [
    { name: 'event_id', type: 'string', doc: 'id' },
    { name: 'jav_id', type: 'long', doc: 'movie' },
  ],
};
const withField = (field: object) => ({ ...v1, fields: [...v1.fields, field] });

async function register(subject: string, schema: object): Promise<void> {
  const res = await fetch(`${registry}/subjects/${encodeURIComponent(subject)}/versions`, {
    method: 'POST',
    headers: { 'Content-Type': CONTENT_TYPE },
    body: JSON.stringify({ schema: JSON.stringify(schema) }),
  });
  if (!res.ok) throw new Error(`register ${subject}: ${res.status} ${await res.text()}`);
}

describe('checkCompatibility against the real registry (global level BACKWARD)', () => {
  // A fresh subject per run, so runs never see each other's versions.
  const subject = `tally.test.compat-${randomUUID().slice(0, 8)}-value`;
  const deleteSubject = (permanent: boolean) =>
    fetch(`${registry}/subjects/${encodeURIComponent(subject)}${permanent ? '?permanent=true' : ''}`, { method: 'DELETE' });

  beforeAll(() => register(subject, v1));
  afterAll(async () => {
    await deleteSubject(false);
    await deleteSubject(true);
  });

  it('calls a subject that does not exist yet compatible', async () => {
    const result = await checkCompatibility(registry, `tally.test.absent-${randomUUID()}-value`, v1);
    expect(result).toMatchObject({ compatible: true, problems: [] });
  });

  it('accepts a new field with a default', async () => {
    const result = await checkCompatibility(
      registry,
      subject,
      withField({ name: 'rating', type: ['null', 'int'], default: null, doc: 'stars' }),
    );
    expect(result).toEqual({ compatible: true, subject, problems: [], message: `${subject}: compatible` });
  });

  it('refuses a new field without a default, naming it', async () => {
    const result = await checkCompatibility(registry, subject, withField({ name: 'rating', type: 'int', doc: 'stars' }));
    expect(result.compatible).toBe(false);
    expect(result.level).toBe('BACKWARD');
    expect(result.problems.map((p) => p.field)).toEqual(['rating']);
    expect(result.message).toContain("field 'rating' added without a default");
  });

  it('refuses a type change of a field, naming it and both types', async () => {
    const changed = { ...v1, fields: [v1.fields[0], { name: 'jav_id', type: 'string', doc: 'movie' }] };
    const result = await checkCompatibility(registry, subject, changed);
    expect(result.compatible).toBe(false);
    expect(result.problems.map((p) => p.field)).toEqual(['jav_id']);
    expect(result.message).toContain("field 'jav_id' changed type from long to string");
  });

  it('reports a schema the registry cannot parse as incompatible with its reason', async () => {
    const result = await checkCompatibility(registry, subject, '{"type": "recrd"}');
    expect(result.compatible).toBe(false);
    expect(result.message).toMatch(/registry rejected the schema: .*[Ii]nvalid schema/);
  });

  it('gets each Tally schema parsed by the registry (a malformed one would be rejected with 422)', async () => {
    for (const { type, avroSchema } of eventDefinitions()) {
      const fresh = `tally.test.real-${randomUUID().slice(0, 8)}-value`;
      expect({ type, result: await checkCompatibility(registry, fresh, avroSchema) }).toMatchObject({ type, result: { compatible: true } });
    }
  });
});
