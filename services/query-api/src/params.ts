import { z } from 'zod';
import { TallyError } from '@tally/runtime';

/** A 400 naming the offending parameter, so a client can fix its request without reading the docs. */
export class InvalidParameter extends TallyError {
  constructor(readonly parameter: string, reason: string) {
    super('INVALID_PARAMETER', `${parameter}: ${reason}`, { httpStatus: 400 });
  }
}

export class NotFound extends TallyError {
  constructor(code: string, message: string) {
    super(code, message, { httpStatus: 404 });
  }
}

/**
 * Route parameters are decoded with zod (the same library as the configuration) instead of
 * Fastify's ajv, whose messages ("querystring/window must be equal to one of the allowed values")
 * do not name the parameter in a form a client can match on.
 */
export function parse<S extends z.ZodTypeAny>(schema: S, input: unknown): z.infer<S> {
  const r = schema.safeParse(input ?? {});
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  throw new InvalidParameter(String(issue.path[0] ?? '(parameters)'), issue.message);
}

/** A database id: a positive whole number that fits MySQL's BIGINT and JS's safe integers. */
export const id = (what: string) =>
  z
    .string({ required_error: 'is required' })
    .regex(/^[1-9][0-9]{0,15}$/, `must be a positive whole number (${what} id)`)
    .transform(Number)
    .refine(Number.isSafeInteger, 'is too large');

export const intInRange = (min: number, max: number, fallback: number) =>
  z
    .string()
    .regex(/^[0-9]{1,9}$/, `must be a whole number from ${min} to ${max}`)
    .transform(Number)
    .refine((n) => n >= min && n <= max, `must be a whole number from ${min} to ${max}`)
    .optional()
    .transform((n) => n ?? fallback);

const enumOf = <T extends string>(values: readonly [T, ...T[]]) =>
  z.enum(values, { errorMap: (_i, ctx) => ({ message: `must be one of ${values.join(', ')}${ctx.data === undefined ? '' : ` (got '${String(ctx.data)}')`}` }) });

export const oneOf = <T extends string>(values: readonly [T, ...T[]], fallback: T) =>
  enumOf(values)
    .optional()
    .transform((v): T => v ?? fallback);

export const optionalOneOf = <T extends string>(values: readonly [T, ...T[]]) => enumOf(values).optional();

export const booleanFlag = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0'], { errorMap: () => ({ message: 'must be true or false' }) })
    .optional()
    .transform((v) => (v === undefined ? fallback : v === 'true' || v === '1'));
