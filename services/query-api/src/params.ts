import { z } from 'zod';
import { TallyError, type ErrorCode } from '@tally/runtime';

/** A 400 naming the offending parameter, so a client can fix its request without reading the docs. */
export class InvalidParameter extends TallyError {
  constructor(
    readonly parameter: string,
    reason: string,
  ) {
    super('INVALID_PARAMETER', `${parameter}: ${reason}`, { httpStatus: 400 });
  }
}

export class NotFound extends TallyError {
  constructor(code: ErrorCode, message: string) {
    super(code, message, { httpStatus: 404 });
  }
}

type Json = Record<string, unknown>;

/**
 * One parameter: its OpenAPI schema and the decoder built from the same numbers, so the document
 * and the server cannot disagree (openapi.test.ts generates requests from the served document).
 * Decoded with zod rather than Fastify's ajv: ajv's coercion takes "0x10", " 5" and "1e1" for
 * integers, which no integer serializer sends, and its messages ("querystring/window must be equal
 * to one of the allowed values") do not name the parameter in a form a client can match on.
 */
export interface Param<T> {
  readonly schema: Json;
  readonly decode: z.ZodType<T, z.ZodTypeDef, unknown>;
}

/** The parameters of one route part (path or query string): the object schema for the route, one zod object to decode. */
export function paramsOf<S extends Record<string, Param<unknown>>>(shape: S, required: readonly (keyof S & string)[] = []) {
  const decoders = Object.fromEntries(Object.entries(shape).map(([k, p]) => [k, p.decode])) as { [K in keyof S]: S[K]['decode'] };
  return {
    schema: {
      type: 'object',
      properties: Object.fromEntries(Object.entries(shape).map(([k, p]) => [k, p.schema])),
      ...(required.length ? { required } : {}),
    },
    decode: z.object(decoders),
  };
}

export function parse<S extends z.ZodTypeAny>(schema: S, input: unknown): z.infer<S> {
  const r = schema.safeParse(input ?? {});
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  throw new InvalidParameter(String(issue.path[0] ?? '(parameters)'), issue.message);
}

/** Decimal digits whose value is in [min, max]; leading zeros are the same number. */
function wholeNumber(min: number, max: number, message: string) {
  return z
    .string({ required_error: 'is required', invalid_type_error: message })
    .regex(/^[0-9]+$/, message)
    .transform(Number)
    .refine((n) => n >= min && n <= max, message);
}

/** A database id: a positive whole number that fits MySQL's BIGINT and JS's safe integers. */
export const id = (what: string): Param<number> => ({
  schema: {
    type: 'integer',
    format: 'int64',
    minimum: 1,
    maximum: Number.MAX_SAFE_INTEGER,
    description: `${what[0]!.toUpperCase()}${what.slice(1)} id`,
  },
  decode: wholeNumber(1, Number.MAX_SAFE_INTEGER, `must be a whole number from 1 to ${Number.MAX_SAFE_INTEGER} (${what} id)`),
});

export const intInRange = (min: number, max: number, fallback: number): Param<number> => ({
  schema: { type: 'integer', minimum: min, maximum: max, default: fallback },
  decode: wholeNumber(min, max, `must be a whole number from ${min} to ${max}`)
    .optional()
    .transform((n) => n ?? fallback),
});

const enumOf = <T extends string>(values: readonly [T, ...T[]]) =>
  z.enum(values, {
    errorMap: (_i, ctx) => ({
      message: `must be one of ${values.join(', ')}${ctx.data === undefined ? '' : ` (got '${String(ctx.data)}')`}`,
    }),
  });

export const oneOf = <T extends string>(values: readonly [T, ...T[]], fallback: T): Param<T> => ({
  schema: { type: 'string', enum: values, default: fallback },
  decode: enumOf(values)
    .optional()
    .transform((v): T => v ?? fallback),
});

export const optionalOneOf = <T extends string>(values: readonly [T, ...T[]]): Param<T | undefined> => ({
  schema: { type: 'string', enum: values },
  decode: enumOf(values).optional(),
});

/** `true` or `false`, as an OpenAPI boolean query parameter is serialized. */
export const booleanFlag = (fallback: boolean): Param<boolean> => ({
  schema: { type: 'boolean', default: fallback },
  decode: z
    .enum(['true', 'false'], { errorMap: () => ({ message: 'must be true or false' }) })
    .optional()
    .transform((v) => (v === undefined ? fallback : v === 'true')),
});

/** A string matching `pattern` (the same one in the document), else `message`. */
export const matching = (pattern: string, message: string, description?: string): Param<string | undefined> => ({
  schema: { type: 'string', pattern, ...(description ? { description } : {}) },
  decode: z.string({ invalid_type_error: message }).regex(new RegExp(pattern), message).optional(),
});

/**
 * Text with at least one non-space character and at most `maxLength` characters (code points, as
 * JSON Schema counts them), trimmed once valid. JavaScript's \S is the complement of what trim() removes.
 */
export const searchText = (maxLength: number): Param<string> => ({
  schema: {
    type: 'string',
    minLength: 1,
    maxLength,
    pattern: '\\S',
    description: `At most ${maxLength} characters, not only spaces; leading and trailing spaces are ignored`,
  },
  decode: z
    .string({ required_error: 'is required', invalid_type_error: 'must be a single text' })
    .refine((s) => /\S/.test(s), 'must not be empty')
    .refine((s) => [...s].length <= maxLength, `must be at most ${maxLength} characters`)
    .transform((s) => s.trim()),
});
