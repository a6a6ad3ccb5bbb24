import { diffSchemas } from './schema-diff';

const record = (...fields: object[]) => ({
  type: 'record',
  name: 'R',
  namespace: 'dev.tally.test',
  fields: [{ name: 'id', type: 'long' }, ...fields],
});
const mood = (symbols: string[]) => ({ type: 'enum', name: 'Mood', symbols });

describe('diffSchemas', () => {
  it('finds nothing for a field added with a default, or a promotion int → long', () => {
    expect(diffSchemas(record(), record({ name: 'note', type: ['null', 'string'], default: null }), ['backward', 'forward'])).toEqual([]);
    expect(diffSchemas(record({ name: 'n', type: 'int' }), record({ name: 'n', type: 'long' }), ['backward'])).toEqual([]);
  });

  it('names a field added without a default (backward)', () => {
    expect(diffSchemas(record(), record({ name: 'rating', type: 'int' }), ['backward'])).toEqual([
      { field: 'rating', message: "field 'rating' added without a default (the new schema cannot read records written before it)" },
    ]);
  });

  it('names a field whose type changed, with both types', () => {
    expect(diffSchemas(record({ name: 'rating', type: 'int' }), record({ name: 'rating', type: 'string' }), ['backward'])).toEqual([
      { field: 'rating', message: "field 'rating' changed type from int to string" },
    ]);
    expect(
      diffSchemas(record({ name: 'u', type: ['null', 'long'] }), record({ name: 'u', type: ['null', 'string'] }), ['backward']),
    ).toEqual([{ field: 'u', message: "field 'u' changed type from null | long to null | string" }]);
  });

  it('treats a demotion long → int as a type change, but reads timestamp-millis as its long', () => {
    expect(diffSchemas(record({ name: 'n', type: 'long' }), record({ name: 'n', type: 'int' }), ['backward'])).toHaveLength(1);
    const ts = { type: 'long', logicalType: 'timestamp-millis' };
    expect(diffSchemas(record({ name: 't', type: 'long' }), record({ name: 't', type: ts }), ['backward', 'forward'])).toEqual([]);
  });

  it('names an enum field that lost symbols, unless the enum has a default', () => {
    expect(diffSchemas(record({ name: 'm', type: mood(['up', 'down']) }), record({ name: 'm', type: mood(['up']) }), ['backward'])).toEqual(
      [{ field: 'm', message: "field 'm': enum Mood removed symbols: down (and no enum default)" }],
    );
    const withDefault = { ...mood(['up', 'other']), default: 'other' };
    expect(diffSchemas(record({ name: 'm', type: mood(['up', 'down']) }), record({ name: 'm', type: withDefault }), ['backward'])).toEqual(
      [],
    );
  });

  it('names a removed field the previous version needs (forward), which backward allows', () => {
    const prev = record({ name: 'jav_id', type: 'long' });
    expect(diffSchemas(prev, record(), ['backward'])).toEqual([]);
    expect(diffSchemas(prev, record(), ['forward'])).toEqual([
      {
        field: 'jav_id',
        message: "field 'jav_id' removed although the previous version has no default for it (its readers cannot read new records)",
      },
    ]);
  });

  it('follows nested records and reports the dotted path', () => {
    const inner = (...fields: object[]) => ({
      name: 'where',
      type: { type: 'record', name: 'Where', fields: [{ name: 'city', type: 'string' }, ...fields] },
    });
    expect(diffSchemas(record(inner()), record(inner({ name: 'zip', type: 'string' })), ['backward'])).toEqual([
      { field: 'where.zip', message: expect.stringContaining("field 'where.zip' added without a default") },
    ]);
  });
});
