import type { AvroSchema } from './schema-source';
import { DOMAIN_SCHEMAS, MAX_AVRO_LONG, type SchemaFragment } from './domain-rules';

type Json = Record<string, unknown>;

const INT32 = { type: 'integer', format: 'int32', minimum: -2_147_483_648, maximum: 2_147_483_647 };
// avsc accepts a long only as an integer within ±MAX_AVRO_LONG (it decodes to a JS number).
const INT64 = { type: 'integer', format: 'int64', minimum: -MAX_AVRO_LONG, maximum: MAX_AVRO_LONG };

const PRIMITIVES: Record<string, Json> = {
  string: { type: 'string' },
  int: INT32,
  long: INT64,
  boolean: { type: 'boolean' },
  double: { type: 'number' },
  float: { type: 'number' },
};

/**
 * The values an Avro type accepts as JSON Schema (the OpenAPI 3.0 subset: `nullable`, no type arrays).
 * Only the types schemas/ uses: primitives, ["null", T] unions, enums and maps of primitives.
 */
export function avroJsonSchema(t: AvroSchema): Json {
  if (typeof t === 'string') {
    const s = PRIMITIVES[t];
    if (!s) throw new Error(`Avro type '${t}' has no JSON Schema form here`);
    return { ...s };
  }
  if (Array.isArray(t)) {
    const others = t.filter((x) => x !== 'null');
    if (others.length !== 1 || others.length === t.length)
      throw new Error(`only ["null", T] unions have a JSON Schema form here (got ${JSON.stringify(t)})`);
    return { ...avroJsonSchema(others[0]!), nullable: true };
  }
  const o = t as Json;
  if (o.type === 'enum') return { type: 'string', enum: o.symbols };
  if (o.type === 'map') return { type: 'object', additionalProperties: avroJsonSchema(o.values as AvroSchema) };
  return avroJsonSchema(o.type as AvroSchema);
}

/** Avro type and domain rule of one field, merged: the fragment's keywords win (minimum 1 over int64's). */
export function fieldJsonSchema(name: string, t: AvroSchema): Json {
  const fragment: SchemaFragment = DOMAIN_SCHEMAS[name] ?? {};
  return { ...avroJsonSchema(t), ...fragment };
}
