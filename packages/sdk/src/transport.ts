import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import { parseRetryAfter } from './backoff';
import { codeForStatus, type FieldError, type RejectedEvent } from './errors';
import type { TrackedEvent } from './events';

const gzip = promisify(gzipCallback);

export interface TransportOptions {
  endpoint: string;
  key: string;
  gzip: boolean;
  timeoutMs: number;
  fetch: typeof fetch;
}

/** What one POST of one batch came to; the client alone decides what to do with it. */
export type SendOutcome =
  | { kind: 'accepted'; accepted: number; rejected: RejectedEvent[] }
  | { kind: 'retry'; reason: string; status?: number; retryAfterMs?: number }
  | { kind: 'refused'; status: number; code: string; message: string; rejected: RejectedEvent[] };

/**
 * POSTs one batch. sent_at is stamped here, on every attempt, because the server corrects the
 * client's clock by (received_at - sent_at): a sent_at kept from an earlier attempt would shift the
 * events by the whole backoff time. event_id and occurred_at are never touched, so a retry is the
 * same events and the server's dedup counts them once.
 */
export async function sendBatch(options: TransportOptions, batch: readonly TrackedEvent[]): Promise<SendOutcome> {
  const sentAt = new Date().toISOString();
  const json = JSON.stringify({ events: batch.map((event) => ({ ...event, sent_at: sentAt })) });
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    authorization: `Bearer ${options.key}`,
  };
  let body: string | Buffer = json;
  if (options.gzip) {
    body = await gzip(json);
    headers['content-encoding'] = 'gzip';
  }

  let response: Response;
  let text: string;
  try {
    // The timeout covers reading the body too: a server that sends headers and stalls is as stuck as one that never answers.
    response = await options.fetch(options.endpoint, { method: 'POST', headers, body, signal: AbortSignal.timeout(options.timeoutMs) });
    text = await response.text();
  } catch (error) {
    const timedOut = error instanceof Error && error.name === 'TimeoutError';
    return { kind: 'retry', reason: timedOut ? `timed out after ${options.timeoutMs} ms` : describeNetworkError(error) };
  }

  const status = response.status;
  if (status === 429 || status >= 500) {
    return { kind: 'retry', status, reason: `HTTP ${status}`, retryAfterMs: parseRetryAfter(response.headers.get('retry-after')) };
  }
  const parsed = parseJson(text);
  const fieldErrors = readFieldErrors(parsed);
  if (status >= 200 && status < 300) {
    const rejected = rejectByIndex(batch, fieldErrors, status, 'events_rejected');
    const accepted = readNumber(parsed, 'accepted') ?? batch.length - rejected.length;
    return { kind: 'accepted', accepted, rejected };
  }
  const serverError = readServerError(parsed);
  const code = serverError.code ?? codeForStatus(status);
  const message = serverError.message ?? `HTTP ${status}`;
  // A refused request accepted nothing: events without an error of their own carry the request's.
  const own = rejectByIndex(batch, fieldErrors, status, code);
  const withOwn = new Set(own.map((r) => r.event));
  const rest = batch
    .filter((event) => !withOwn.has(event))
    .map((event) => ({ event, status, code, errors: [{ field: '', reason: message }] }));
  return { kind: 'refused', status, code, message, rejected: [...own, ...rest] };
}

function describeNetworkError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  // undici reports "fetch failed" and hides the socket error (ECONNRESET, ECONNREFUSED) in `cause`.
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${error.message}${cause}`;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function readNumber(body: unknown, key: string): number | undefined {
  const value = isRecord(body) ? body[key] : undefined;
  return typeof value === 'number' ? value : undefined;
}

function readServerError(body: unknown): { code?: string; message?: string } {
  const error = isRecord(body) ? body.error : undefined;
  if (!isRecord(error)) return {};
  return {
    code: typeof error.code === 'string' ? error.code : undefined,
    message: typeof error.message === 'string' ? error.message : undefined,
  };
}

type IndexedFieldError = FieldError & { index: number };

/** The `errors` array of a 202 or 400 body; entries that do not match the contract are ignored. */
function readFieldErrors(body: unknown): IndexedFieldError[] {
  const errors = isRecord(body) ? body.errors : undefined;
  if (!Array.isArray(errors)) return [];
  return errors.flatMap((entry: unknown) =>
    isRecord(entry) && typeof entry.index === 'number' && Number.isInteger(entry.index)
      ? [{ index: entry.index, field: String(entry.field ?? ''), reason: String(entry.reason ?? '') }]
      : [],
  );
}

function rejectByIndex(batch: readonly TrackedEvent[], errors: IndexedFieldError[], status: number, code: string): RejectedEvent[] {
  const byIndex = new Map<number, RejectedEvent>();
  for (const { index, field, reason } of errors) {
    const event = batch[index];
    if (event === undefined) continue;
    const rejected = byIndex.get(index) ?? { event, status, code, errors: [] };
    rejected.errors.push({ field, reason });
    byIndex.set(index, rejected);
  }
  return [...byIndex.values()];
}
