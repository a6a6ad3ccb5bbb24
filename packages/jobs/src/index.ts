export { runJobService, EXIT_LOCKED, type JobServiceConfig, type JobServiceParts, type JobServiceSpec } from './service';
export { JobRunner, lastSuccessfulRun, type JobContext, type JobResult, type JobOutcome, type JobFn } from './runner';
export { tryJobLock, lockName, type HeldLock } from './lock';
export { parseJobArgs, jobUsage, JobArgsError, type JobArgs, type JobFlag } from './args';
export { jobConfigSchema, cronExpression } from './config';
