import { randomUUID } from 'node:crypto';
import { baseConfigSchema, loadConfig } from '@tally/config';

/** The addresses the tests use: the same variables and defaults as the services (the local stack). */
export const env = loadConfig(baseConfigSchema);

/** A name no other test run uses, so suites can share one stack and run again without a reset. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
}

/**
 * Polls until `check` returns a value other than undefined, or fails after `timeoutMs`. `what` may be
 * a function so the message shows a process's output as it is when the wait fails, not as it was
 * when it began (empty, for a process that had just been started).
 */
export async function eventually<T>(
  check: () => Promise<T | undefined>,
  timeoutMs = 15_000,
  what: string | (() => string) = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await beforeDeadline(check(), deadline);
      if (v !== undefined) return v;
    } catch (e) {
      if (e instanceof GiveUp) throw new Error(e.message);
      lastError = e;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const label = typeof what === 'function' ? what() : what;
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${label}${lastError ? `: ${String(lastError)}` : ''}`);
}

/** A check that never settles (a fetch a half-open server never answers) must not outlast the wait. */
async function beforeDeadline<T>(p: Promise<T>, deadline: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('the check was still running at the deadline')), Math.max(0, deadline - Date.now()));
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Thrown by an `eventually` check when waiting longer cannot help (the process it waits for exited). */
export class GiveUp extends Error {}
