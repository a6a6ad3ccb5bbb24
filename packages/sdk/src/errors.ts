import type { TrackedEvent } from './events';

/** One reason the ingest API gave for refusing an event, as in its `errors` array. */
export interface FieldError {
  field: string;
  reason: string;
}

/** An event the server refused; it is never re-sent, because it would be refused again. */
export interface RejectedEvent {
  event: TrackedEvent;
  /** HTTP status of the response that refused it (202 when refused inside an accepted batch). */
  status: number;
  code: string;
  errors: FieldError[];
}

export type TallyErrorCode =
  | 'events_rejected' // 202 or 400: some or all events failed validation
  | 'unauthorized' // 401: bad or missing key
  | 'payload_too_large' // 413: body or event count over the server's limit
  | 'unsupported_media_type' // 415
  | 'request_refused' // any other 4xx
  | 'retries_exhausted'; // network errors, timeouts, 429 or 5xx on every attempt

/**
 * The codes the ingest API answers with (its `error.code`, and `code` of a RejectedEvent), as the
 * server's catalog spells them (packages/runtime/src/error-codes.ts; a unit test there keeps the two
 * lists equal). The SDK is standalone, so it carries its own copy instead of importing it.
 */
export const SERVER_ERROR_CODES = [
  'AUTH_MISSING_KEY',
  'AUTH_UNKNOWN_KEY',
  'BODY_EMPTY',
  'BODY_INVALID',
  'BODY_TOO_LARGE',
  'CONTENT_TYPE_UNSUPPORTED',
  'ENCODING_UNSUPPORTED',
  'EVENT_TYPE_FORBIDDEN',
  'GZIP_INVALID',
  'JSON_INVALID',
  'KAFKA_UNAVAILABLE',
  'METHOD_NOT_ALLOWED',
  'RATE_LIMITED',
  'REGISTRY_UNAVAILABLE',
  'ROUTE_NOT_FOUND',
  'TOO_MANY_EVENTS',
  'USER_TOKEN_INVALID',
  'VALIDATION_FAILED',
] as const;
export type ServerErrorCode = (typeof SERVER_ERROR_CODES)[number];

/**
 * What onError receives. `retriable` says whether the events are still queued for a later flush.
 * Named apart from the server's TallyError (a different class with other fields).
 */
export class TallyClientError extends Error {
  constructor(
    readonly code: TallyErrorCode,
    message: string,
    readonly retriable: boolean,
    readonly status: number | undefined,
    readonly events: readonly TrackedEvent[],
    readonly rejected: readonly RejectedEvent[] = [],
  ) {
    super(message);
    this.name = 'TallyClientError';
  }
}

const CODE_BY_STATUS: Readonly<Record<number, TallyErrorCode>> = {
  400: 'events_rejected',
  401: 'unauthorized',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
};

export function codeForStatus(status: number): TallyErrorCode {
  return CODE_BY_STATUS[status] ?? 'request_refused';
}

/** @deprecated Renamed TallyClientError (the server has its own TallyError); this alias will go in a later major version. */
export const TallyError = TallyClientError;
/** @deprecated Renamed TallyClientError. */
export type TallyError = TallyClientError;
