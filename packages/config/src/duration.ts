const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** How every duration in Tally is written, for error and --help texts. */
export const DURATION_FORMAT = '500ms, 30s, 5m, 1h or 7d (a bare number is milliseconds)';

/**
 * The one duration parser, for settings and CLI flags alike: "250ms", "30s", "5m", "1h", "7d",
 * decimals ("1.5h") and a bare number, which is milliseconds — the rule the settings always had,
 * so no deployed environment changes meaning. Returns whole milliseconds, or undefined if `text`
 * is not a duration (callers name the variable or flag in their own error).
 */
export function tryParseDuration(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(text);
  if (!m) return undefined;
  return Math.round(Number(m[1]) * UNITS[m[2] ?? 'ms']!);
}

/** tryParseDuration, throwing an Error that quotes the text when it is not a duration. */
export function parseDuration(text: string): number {
  const ms = tryParseDuration(text);
  if (ms === undefined) throw new Error(`"${text}" is not a duration (examples: ${DURATION_FORMAT})`);
  return ms;
}
