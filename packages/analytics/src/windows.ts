import type { SearchWindow, TopWindow } from './types';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** Length of each rolling window; every window ends at the snapshot's `now` (exclusive). */
export const WINDOW_MS: Record<Exclude<TopWindow, 'all'>, number> = { '24h': 24 * HOUR_MS, '7d': 7 * DAY_MS, '30d': 30 * DAY_MS };

/** Start (inclusive) of a rolling window ending at `now`. */
export function windowStart(now: Date, w: SearchWindow): Date {
  return new Date(now.getTime() - WINDOW_MS[w]);
}

/** UTC midnight `days - 1` days before `now`'s date: the first day of a `days`-long daily series ending today. */
export function firstDay(now: Date, days: number): Date {
  const midnight = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  return new Date(midnight - (days - 1) * DAY_MS);
}

/** The `days` UTC dates (YYYY-MM-DD) of a daily series ending on `now`'s date, oldest first. */
export function dailySeries(now: Date, days: number): string[] {
  const start = firstDay(now, days).getTime();
  return Array.from({ length: days }, (_, i) => new Date(start + i * DAY_MS).toISOString().slice(0, 10));
}

/** MySQL DATE values come back as JS Dates at UTC midnight (session time zone +00:00) or as strings. */
export function isoDate(v: Date | string): string {
  return v instanceof Date ? v.toISOString().slice(0, 10) : String(v).slice(0, 10);
}

/**
 * The highest `limit` rows by `count`, ties broken by the smaller id: the same order SQL's
 * `ORDER BY count DESC, id ASC` gives, so a single scan can serve several windows.
 */
export function topBy<T>(rows: readonly T[], count: (r: T) => number, id: (r: T) => number, limit: number): T[] {
  return rows
    .filter((r) => count(r) > 0)
    .sort((a, b) => count(b) - count(a) || id(a) - id(b))
    .slice(0, limit);
}

/** Byte order of UTF-8 strings, as MySQL's utf8mb4_bin collation sorts them. */
export function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
