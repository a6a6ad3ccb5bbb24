import { ERROR_CODES, type ErrorCode, type ErrorCodeInfo } from './error-codes';

/**
 * Every error Tally raises on purpose carries a stable code (for logs, metrics labels and API
 * responses), whether retrying can help, and — at the HTTP edge — a status.
 */
export class TallyError extends Error {
  readonly code: ErrorCode;
  readonly retriable: boolean;
  readonly httpStatus: number;
  /** The process exit code when this error stops a service: 2 for what an operator must fix (configuration, schema), else 1. */
  readonly exitCode: 1 | 2;
  // Status and retriability default to the code's catalog entry, so a code means the same everywhere.
  constructor(
    code: ErrorCode,
    message: string,
    opts: { retriable?: boolean; httpStatus?: number; cause?: unknown; exitCode?: 1 | 2 } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    const entry: ErrorCodeInfo = ERROR_CODES[code];
    this.name = 'TallyError';
    this.code = code;
    this.retriable = opts.retriable ?? entry.retriable ?? false;
    this.httpStatus = opts.httpStatus ?? entry.httpStatus ?? (this.retriable ? 503 : 500);
    this.exitCode = opts.exitCode ?? 1;
  }
}

/** A dependency (Kafka, registry, MySQL, Redis, …) is unavailable or timed out: try again later. */
export class DependencyError extends TallyError {
  constructor(dependency: 'kafka' | 'registry' | 'elasticsearch', message: string, cause?: unknown) {
    super(`${dependency.toUpperCase() as Uppercase<typeof dependency>}_UNAVAILABLE`, `${dependency}: ${message}`, {
      retriable: true,
      httpStatus: 503,
      cause,
    });
    this.name = 'DependencyError';
  }
}

/**
 * Unknown errors count as retriable: for a sink, retrying a batch that might have been fine is
 * safe (sinks are idempotent), while treating it as permanent would dead-letter good data.
 */
export function isRetriable(err: unknown): boolean {
  if (err instanceof TallyError) return err.retriable;
  return true;
}

export function errorCode(err: unknown): string {
  if (err instanceof TallyError) return err.code;
  if (err && typeof err === 'object' && 'code' in err && typeof (err as { code: unknown }).code === 'string') {
    return (err as { code: string }).code;
  }
  return 'UNEXPECTED';
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
