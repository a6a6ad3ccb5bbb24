import { readSchemaSource } from './schema-source';

type Field = { name: string; type: unknown; doc?: string; default?: unknown };
type RecordSchema = { type: string; name: string; doc?: string; fields: Field[] };

const ENVELOPE = ['event_id', 'occurred_at', 'sent_at', 'received_at', 'user_id', 'ip', 'user_agent', 'is_bot'];
const schemas = readSchemaSource().events.map((e) => ({ type: e.type, schema: e.schema as unknown as RecordSchema }));

describe('schemas/*.avsc', () => {
  it('all start with the same envelope: same names, types, defaults and docs, in the same order', () => {
    const [first, ...rest] = schemas;
    const envelopeOf = (s: RecordSchema) => s.fields.slice(0, ENVELOPE.length);
    expect(envelopeOf(first!.schema).map((f) => f.name)).toEqual(ENVELOPE);
    for (const s of rest)
      expect({ type: s.type, envelope: envelopeOf(s.schema) }).toEqual({ type: s.type, envelope: envelopeOf(first!.schema) });
  });

  it('declares event_id as a uuid and the times as timestamp-millis', () => {
    const fields = schemas[0]!.schema.fields;
    const byName = (n: string) => fields.find((f) => f.name === n)!.type;
    expect(byName('event_id')).toEqual({ type: 'string', logicalType: 'uuid' });
    expect(byName('occurred_at')).toEqual({ type: 'long', logicalType: 'timestamp-millis' });
    expect(byName('received_at')).toEqual({ type: 'long', logicalType: 'timestamp-millis' });
    expect(byName('sent_at')).toEqual(['null', { type: 'long', logicalType: 'timestamp-millis' }]);
  });

  it('documents every record, every field and every named type', () => {
    const undocumented: string[] = [];
    const visit = (node: unknown, where: string): void => {
      if (Array.isArray(node)) return node.forEach((n) => visit(n, where));
      if (typeof node !== 'object' || node === null) return;
      const n = node as Record<string, unknown>;
      if (['record', 'enum'].includes(String(n.type)) && !n.doc) undocumented.push(`${where}: type ${String(n.name)}`);
      for (const f of (n.fields as Field[] | undefined) ?? []) {
        if (!f.doc) undocumented.push(`${where}.${f.name}`);
        visit(f.type, `${where}.${f.name}`);
      }
    };
    for (const s of schemas) visit(s.schema, s.type);
    expect(undocumented).toEqual([]);
  });

  it('names fields in snake_case', () => {
    const names = schemas.flatMap((s) => s.schema.fields.map((f) => `${s.type}.${f.name}`));
    expect(names.filter((n) => !/\.[a-z][a-z0-9_]*$/.test(n))).toEqual([]);
  });
});
