import { TallyError } from '@tally/runtime';

/**
 * Rejects after `ms` with a retriable MONGO_TIMEOUT. The driver keeps its own timeouts (server
 * selection can take seconds); the losing promise's eventual rejection is swallowed here so it never
 * surfaces as an unhandled rejection.
 */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new TallyError('MONGO_TIMEOUT', `${what} took longer than ${ms} ms`, { retriable: true, httpStatus: 503 })),
      ms,
    );
    timer.unref();
  });
  p.catch(() => undefined);
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
