import { parseArgs } from 'node:util';

export interface JobFlag {
  name: string;
  description: string;
  /** Flags this one only makes sense with (es-sync's --take-over needs --reindex). */
  requires?: string[];
  /** Flags it cannot be combined with: the run would have to guess which one was meant. */
  conflicts?: string[];
}

export type JobArgs = { once: boolean; help: boolean; flags: Set<string> };

/** Thrown for an unknown or malformed command-line option; the message names it. */
export class JobArgsError extends Error {
  readonly code = 'JOB_ARGS_INVALID';
}

/**
 * `<job> [--once] [--<flag>…]`. Job-specific flags (es-sync's --full and --reindex) are boolean
 * and imply --once: asking for a full resync means "do it now", not "on every schedule tick".
 */
export function parseJobArgs(argv: readonly string[], flags: readonly JobFlag[] = []): JobArgs {
  const options: Record<string, { type: 'boolean' }> = { once: { type: 'boolean' }, help: { type: 'boolean' } };
  for (const f of flags) options[f.name] = { type: 'boolean' };
  let values: Record<string, unknown>;
  try {
    ({ values } = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }));
  } catch (err) {
    throw new JobArgsError(err instanceof Error ? err.message : String(err));
  }
  const chosen = new Set(flags.filter((f) => values[f.name] === true).map((f) => f.name));
  for (const f of flags) {
    if (!chosen.has(f.name)) continue;
    const absent = (f.requires ?? []).filter((r) => !chosen.has(r));
    if (absent.length > 0) throw new JobArgsError(`--${f.name} needs ${absent.map((r) => `--${r}`).join(' and ')}`);
    const clash = (f.conflicts ?? []).filter((c) => chosen.has(c));
    if (clash.length > 0) throw new JobArgsError(`--${f.name} cannot be combined with ${clash.map((c) => `--${c}`).join(' or ')}`);
  }
  return { once: values.once === true || chosen.size > 0, help: values.help === true, flags: chosen };
}

export function jobUsage(job: string, summary: string, flags: readonly JobFlag[] = []): string {
  const lines = [
    `usage: ${job} [--once]${flags.map((f) => ` [--${f.name}]`).join('')}`,
    '',
    summary,
    '',
    'options:',
    '  --once        run one job now and exit (default: stay up and run on SCHEDULE)',
    ...flags.map((f) => `  --${f.name.padEnd(12)}${f.description} (implies --once)`),
    '  --help        this text',
    '',
    'exit codes: 0 run succeeded (or service stopped cleanly), 1 run failed, 2 invalid configuration',
    '            or options, 75 another instance holds the job lock (nothing was done)',
  ];
  return lines.join('\n') + '\n';
}
