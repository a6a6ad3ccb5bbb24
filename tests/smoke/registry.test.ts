import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { env, uniqueName } from '../helpers/env';

describe('smoke: schema registry (Confluent API) through @kafkajs/confluent-schema-registry', () => {
  const registry = new SchemaRegistry({ host: env.SCHEMA_REGISTRY_URL });
  const name = uniqueName('Smoke');

  it('registers an Avro schema, encodes to the Confluent wire format and decodes', async () => {
    const schema = JSON.stringify({
      type: 'record',
      name,
      namespace: 'dev.tally.smoke',
      fields: [
        { name: 'jav_id', type: 'long' },
        { name: 'user_id', type: ['null', 'long'], default: null },
      ],
    });
    const { id } = await registry.register({ type: SchemaType.AVRO, schema }, { subject: `${name}-value` });
    expect(id).toBeGreaterThan(0);
    // Registering the same schema again is idempotent: same id.
    expect((await registry.register({ type: SchemaType.AVRO, schema }, { subject: `${name}-value` })).id).toBe(id);

    const bytes = await registry.encode(id, { jav_id: 42, user_id: null });
    expect(bytes[0]).toBe(0); // magic byte
    expect(bytes.readInt32BE(1)).toBe(id);
    // A fresh client has no cache: decode must fetch the schema by id from the server.
    const fresh = new SchemaRegistry({ host: env.SCHEMA_REGISTRY_URL });
    expect(await fresh.decode(bytes)).toEqual({ jav_id: 42, user_id: null });
  });

  it('refuses a BACKWARD-incompatible change', async () => {
    const subject = `${uniqueName('SmokeCompat')}-value`;
    const v1 = { type: 'record', name: 'C', fields: [{ name: 'a', type: 'long' }] };
    const v2 = {
      type: 'record',
      name: 'C',
      fields: [
        { name: 'a', type: 'long' },
        { name: 'b', type: 'string' },
      ],
    };
    await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(v1) }, { subject });
    await expect(registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(v2) }, { subject })).rejects.toThrow();
  });
});
