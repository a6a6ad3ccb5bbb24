import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import fc from 'fast-check';
import { eventDefinitions } from './catalog';
import { DOMAIN_RULES, DOMAIN_SCHEMAS, MAX_FUTURE_SKEW_MS, MAX_TIME_MS, MIN_TIME_MS, parseClientTime } from './domain-rules';
import { fieldJsonSchema } from './json-schema';
import { sampleEvents } from './samples';
import { validateEvent } from './validate';
import type { AvroSchema } from './schema-source';

// Drift check of the one table: every rule has its schema fragment, and for random values (around the
// bounds, of every JSON type) the fragment merged with the Avro type agrees with Avro + the rule.
const ajv = addFormats(new Ajv({ strict: false, allErrors: false }));
const RECEIVED_AT = Date.UTC(2026, 10, 26);

it('gives every domain rule a JSON Schema fragment, and nothing else one', () => {
  expect(Object.keys(DOMAIN_SCHEMAS).sort()).toEqual(Object.keys(DOMAIN_RULES).sort());
  for (const fragment of Object.values(DOMAIN_SCHEMAS)) expect(Object.keys(fragment).length).toBeGreaterThan(0);
});

const boundaries = [
  0,
  -1,
  1,
  5,
  6,
  2 ** 31 - 1,
  2 ** 31,
  2 ** 53 - 2,
  Number.MAX_SAFE_INTEGER,
  Number.MAX_SAFE_INTEGER + 1,
  MIN_TIME_MS - 1,
  MIN_TIME_MS,
  MAX_TIME_MS - 1,
  MAX_TIME_MS,
  0.5,
];
const value = fc.oneof(
  fc.constantFrom(
    ...boundaries,
    null,
    '',
    ' ',
    '\u00a0',
    'a',
    '127.0.0.1',
    '::1',
    'fe80::1%eth0',
    '01.2.3.4',
    '00000000-0000-0000-0000-000000000000',
    '3f2c5e1a-9b7d-4c2e-8f1a-2b3c4d5e6f70',
    '3F2C5E1A-9B7D-4C2E-8F1A-2B3C4D5E6F70',
  ),
  fc.integer({ min: MIN_TIME_MS - 10, max: MAX_TIME_MS + 10 }),
  fc.string({ unit: 'grapheme', maxLength: 70 }),
  fc.string({ minLength: 499, maxLength: 514 }),
  fc.uuid(),
  fc.ipV4(),
  fc.ipV6(),
  fc.boolean(),
  fc.dictionary(fc.string({ maxLength: 3 }), fc.oneof(fc.string({ maxLength: 3 }), fc.integer()), { noNullPrototype: true }),
);

const fields = new Map<string, AvroSchema>();
for (const d of eventDefinitions()) {
  for (const f of (d.avroSchema as { fields: { name: string; type: AvroSchema }[] }).fields) fields.set(f.name, f.type);
}

it.each([...fields.keys()].map((f) => [f]))('%s: the document fragment and the validator agree on every value', (name) => {
  const type = eventDefinitions().find((d) => d.avroType.fields.some((f) => f.name === name))!.type;
  const sample = { ...sampleEvents()[type], received_at: RECEIVED_AT } as Record<string, unknown>;
  // received_at itself varies: the client times beside it must stay within a day of any received_at.
  if (name === 'received_at') Object.assign(sample, { occurred_at: MIN_TIME_MS, sent_at: null });
  const check = ajv.compile(fieldJsonSchema(name, fields.get(name)!));
  fc.assert(
    fc.property(value, (v) => {
      const byRule = validateEvent(type, { ...sample, [name]: v }).ok;
      // The one relative rule (client times against received_at) is an extension JSON Schema cannot check.
      const relative = (name === 'occurred_at' || name === 'sent_at') && typeof v === 'number' && v > RECEIVED_AT + MAX_FUTURE_SKEW_MS;
      expect({ value: v, accepted: check(v) && !relative }).toEqual({ value: v, accepted: byRule });
    }),
    { numRuns: 2_000 },
  );
});

describe('parseClientTime', () => {
  it.each([
    ['2026-11-26T12:00:00Z', Date.UTC(2026, 10, 26, 12)],
    ['2026-11-26T12:00:00.5+01:00', Date.UTC(2026, 10, 26, 11, 0, 0, 500)],
    ['2024-02-29T00:00:00Z', Date.UTC(2024, 1, 29)],
    [1_764_158_400_000, 1_764_158_400_000],
  ])('reads %j', (input, ms) => expect(parseClientTime(input)).toBe(ms));

  it.each([
    ['2026-02-29T00:00:00Z'],
    ['2026-11-26T12:00:00'],
    ['2026-11-26 12:00:00Z'],
    ['1999-12-31T23:59:59Z'],
    ['2026-11-26T23:59:60Z'],
    [1.5],
    ['yesterday'],
  ])('refuses %j', (input) => {
    expect(parseClientTime(input)).toBeUndefined();
  });
});
