export { TallyClient, type FlushResult, type TallyClientOptions, type TallyStats } from './client';
export {
  TallyClientError,
  TallyError,
  SERVER_ERROR_CODES,
  type ServerErrorCode,
  type FieldError,
  type RejectedEvent,
  type TallyErrorCode,
} from './errors';
export * from './events';
export { parseRetryAfter, retryDelayMs } from './backoff';
