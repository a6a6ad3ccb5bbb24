export { TallyError, DependencyError, isRetriable, errorCode, errorMessage } from './errors';
export { ERROR_CODES, type ErrorCode, type ErrorCodeInfo } from './error-codes';
export { createLogger, type Logger, type LoggerSettings } from './logger';
export { METRIC_PREFIX, ServiceMetrics } from './metrics';
export { startManagementServer, healthRoutes, type ManagementServer, type ReadinessCheck, type ManagementSettings } from './management';
export { Lifecycle } from './lifecycle';
export { serviceConfigSchema, withManagementPort } from './config';
export { isSchemaError, classifyStoreError } from './store-errors';
export { answerUnservedMethods, METHOD_NOT_ALLOWED_RESPONSE, type NotFoundHandler } from './method-not-allowed';
