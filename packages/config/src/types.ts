import { z } from 'zod';
import { DURATION_FORMAT, tryParseDuration } from './duration';

// Environment variables are strings; these helpers turn them into typed values with reasons a
// person can act on ("must be a whole number from 1 to 65535", not "Expected number").

/** "a,b , c" → ["a","b","c"]; empty items are an error, not silently dropped. */
export const csvList = () =>
  z.string().transform((s, ctx) => {
    const items = s.split(',').map((x) => x.trim());
    if (items.some((x) => x === '')) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'must be a comma-separated list without empty items' });
      return z.NEVER;
    }
    return items;
  });

export const port = () =>
  z.coerce
    .number({ invalid_type_error: 'must be a port number' })
    .int('must be a whole number')
    .min(1, 'must be a port from 1 to 65535')
    .max(65535, 'must be a port from 1 to 65535');

const TRUE = new Set(['1', 'true', 'yes', 'on']);
const FALSE = new Set(['0', 'false', 'no', 'off', '']);
export const bool = () =>
  z.string().transform((s, ctx) => {
    const v = s.trim().toLowerCase();
    if (TRUE.has(v)) return true;
    if (FALSE.has(v)) return false;
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'must be true or false (1/0, yes/no, on/off)' });
    return z.NEVER;
  });

/** A duration by the one rule of duration.ts: "250ms", "30s", "5m", "1h", "7d", or a bare number of milliseconds. */
export const durationMs = () =>
  z.string().transform((s, ctx) => {
    const ms = tryParseDuration(s);
    if (ms === undefined) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `must be a duration like ${DURATION_FORMAT}` });
      return z.NEVER;
    }
    return ms;
  });

/** A JSON object (`{"a": 1}`); the reason names JSON's own complaint. */
export const jsonObject = () =>
  z.string().transform((s, ctx): Record<string, unknown> => {
    let v: unknown;
    try {
      v = JSON.parse(s);
    } catch (err) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `must be a JSON object: ${(err as Error).message}` });
      return z.NEVER;
    }
    if (v === null || typeof v !== 'object' || Array.isArray(v)) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'must be a JSON object ({...})' });
      return z.NEVER;
    }
    return v as Record<string, unknown>;
  });
