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

/** What onError receives. `retriable` says whether the events are still queued for a later flush. */
export class TallyError extends Error {
  constructor(
    readonly code: TallyErrorCode,
    message: string,
    readonly retriable: boolean,
    readonly status: number | undefined,
    readonly events: readonly TrackedEvent[],
    readonly rejected: readonly RejectedEvent[] = [],
  ) {
    super(message);
    this.name = 'TallyError';
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
