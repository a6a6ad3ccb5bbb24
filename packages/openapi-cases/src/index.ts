import SwaggerParser from '@apidevtools/swagger-parser';
import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import fc from 'fast-check';
import { JSONSchemaFaker as jsf, type Schema } from 'json-schema-faker';
// The demo seeder's PRNG: fast-check's seed reproduces a json-schema-faker case.
import { mulberry32 } from '@tally/db';

/** A JSON Schema object of an OpenAPI 3.0 document (nullable, x- extensions, no $ref inside). */
export type OpenApiSchema = Record<string, unknown>;

const ajv = addFormats(new Ajv({ strict: false, allErrors: false, discriminator: false }));
const compiled = new WeakMap<object, ValidateFunction>();

/** Whether `value` is allowed by `schema` as OpenAPI 3.0 reads it (Ajv: `nullable` and formats understood, x- extensions ignored). */
export function allows(schema: OpenApiSchema, value: unknown): boolean {
  let check = compiled.get(schema);
  if (!check) compiled.set(schema, (check = ajv.compile(withoutDiscriminatorMapping(schema))));
  return check(value);
}

// Ajv knows `discriminator` but not OpenAPI's `mapping`; the oneOf alone decides the same.
function withoutDiscriminatorMapping(schema: unknown): OpenApiSchema {
  return JSON.parse(JSON.stringify(schema), (k, v) => (k === 'discriminator' ? undefined : v));
}

jsf.option({ alwaysFakeOptionals: false, optionalsProbability: 0.5, useDefaultValue: false, failOnInvalidTypes: true, maxRegexRetry: 200 });

/**
 * Instances of `schema` (json-schema-faker, seeded by fast-check), kept only when the schema allows
 * them: the generator does not honour every keyword (a pattern beside a format, nullable), the
 * document does. `repair` may move a value into a rule the schema states only as an x- extension.
 */
export function instancesOf<T = unknown>(schema: OpenApiSchema, repair: (value: T, seed: number) => T = (v) => v): fc.Arbitrary<T> {
  return fc
    .integer({ min: 0, max: 2 ** 31 - 1 })
    .map((seed) => {
      const random = mulberry32(seed);
      jsf.option({ random });
      return repair(withNulls(schema, jsf.generate(schema as Schema), random) as T, seed);
    })
    .filter((v) => allows(schema, v));
}

const nullable = (s: OpenApiSchema) =>
  s.nullable === true || ((s.oneOf ?? s.anyOf ?? []) as OpenApiSchema[]).some((b) => b.nullable === true);

/** json-schema-faker ignores OpenAPI's `nullable`: a nullable property present becomes null one time in four. */
function withNulls(schema: OpenApiSchema, value: unknown, random: () => number): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || !schema.properties) return value;
  const props = schema.properties as Record<string, OpenApiSchema>;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, props[k] && nullable(props[k]) && random() < 0.25 ? null : v]));
}

/** One value that breaks one constraint of one property, and what the server must name. */
export interface Violation {
  /** The property whose value breaks the constraint (or is missing / extra). */
  readonly field: string;
  /** The constraint broken: type, pattern, minimum, …, required, additionalProperties. */
  readonly keyword: string;
  /** The object with the violation applied (a copy). */
  apply(value: Record<string, unknown>): Record<string, unknown>;
}

const set = (field: string, v: unknown) => (o: Record<string, unknown>) => ({ ...o, [field]: v });

/** A value of a JSON type none of the schema's branches has. */
function wrongType(s: OpenApiSchema): unknown {
  const types = new Set([s.type, ...((s.oneOf ?? s.anyOf ?? []) as OpenApiSchema[]).map((b) => b.type)].filter(Boolean));
  if (!types.has('boolean')) return true;
  if (!types.has('string')) return 'x';
  return [];
}

/** Every single-constraint violation the schema of an object states, property by property. */
export function violationsOf(schema: OpenApiSchema): Violation[] {
  const out: Violation[] = [];
  const properties = (schema.properties ?? {}) as Record<string, OpenApiSchema>;
  for (const [field, s] of Object.entries(properties)) {
    out.push({ field, keyword: 'type', apply: set(field, wrongType(s)) });
    if (!nullable(s)) out.push({ field, keyword: 'nullable', apply: set(field, null) });
    const branches = [s, ...((s.oneOf ?? []) as OpenApiSchema[])];
    for (const b of branches) {
      if (typeof b.minimum === 'number') out.push({ field, keyword: 'minimum', apply: set(field, b.minimum - 1) });
      if (typeof b.maximum === 'number') out.push({ field, keyword: 'maximum', apply: set(field, b.maximum + 1) });
      if (b.type === 'integer')
        out.push({ field, keyword: 'integer', apply: set(field, (typeof b.minimum === 'number' ? b.minimum : 0) + 0.5) });
      if (typeof b.maxLength === 'number') out.push({ field, keyword: 'maxLength', apply: set(field, 'x'.repeat(b.maxLength + 1)) });
      if (typeof b.minLength === 'number' && b.minLength > 0) out.push({ field, keyword: 'minLength', apply: set(field, '') });
      if (typeof b.pattern === 'string')
        out.push({ field, keyword: 'pattern', apply: set(field, b.pattern === '\\S' ? ' \t ' : 'not matching') });
      if (b.format === 'date-time') out.push({ field, keyword: 'format', apply: set(field, '2026-02-30T00:00:00Z') });
      if (Array.isArray(b.enum) && !b.enum.includes('not-a-member'))
        out.push({ field, keyword: 'enum', apply: set(field, 'not-a-member') });
      if (Array.isArray(b.anyOf) && (b.anyOf as OpenApiSchema[]).some((x) => x.format))
        out.push({ field, keyword: 'format', apply: set(field, '300.1.2.3') });
      if (b.type === 'object' && typeof b.additionalProperties === 'object')
        out.push({
          field: `${field}.k`,
          keyword: 'additionalProperties',
          apply: set(field, { k: wrongType(b.additionalProperties as OpenApiSchema) }),
        });
    }
  }
  for (const field of (schema.required ?? []) as string[]) {
    out.push({ field, keyword: 'required', apply: (o) => Object.fromEntries(Object.entries(o).filter(([k]) => k !== field)) });
  }
  if (schema.additionalProperties === false) out.push({ field: 'x_extra', keyword: 'additionalProperties', apply: set('x_extra', 1) });
  return out;
}

/**
 * Problems of a whole document against the OpenAPI 3.0 specification's own schema (and its $refs
 * resolving); empty when valid. A copy is checked: the parser dereferences in place.
 */
export async function documentProblems(doc: unknown): Promise<string[]> {
  try {
    await SwaggerParser.validate(structuredClone(doc) as Parameters<typeof SwaggerParser.validate>[0]);
    return [];
  } catch (err) {
    return [(err as Error).message];
  }
}
