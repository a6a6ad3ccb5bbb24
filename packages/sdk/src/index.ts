export { TallyClient, type FlushResult, type TallyClientOptions, type TallyStats } from './client';
export { TallyError, type FieldError, type RejectedEvent, type TallyErrorCode } from './errors';
export * from './events';
export { parseRetryAfter, retryDelayMs } from './backoff';
