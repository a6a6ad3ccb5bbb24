import type { Knex } from 'knex';
import { schedule, type ScheduledTask } from 'node-cron';
import {
  createLogger,
  Lifecycle,
  releaseMemoryWhenIdle,
  ServiceMetrics,
  startManagementServer,
  type Logger,
  type ReadinessCheck,
} from '@tally/runtime';
import { jobUsage, parseJobArgs, JobArgsError, type JobArgs, type JobFlag } from './args';
import { JobRunner, type JobFn } from './runner';

/** Settings every scheduled service has (a subset of its zod config, see jobConfigSchema). */
export interface JobServiceConfig {
  LOG_LEVEL: string;
  LOG_REDACT_PERSONAL_DATA: boolean;
  MANAGEMENT_HOST: string;
  MANAGEMENT_PORT: number;
  SHUTDOWN_TIMEOUT: number;
  IDLE_GC_AFTER: number;
  SCHEDULE: string;
  RUN_ON_START: boolean;
}

export interface JobServiceParts {
  /** The MySQL handle used for the job lock and job_runs (every job reads MySQL anyway). */
  db: Knex;
  /** Clients created for the job; closed in reverse order after the last run ends. */
  resources: { name: string; close: () => Promise<unknown> | unknown }[];
  readiness: ReadinessCheck[];
  run: JobFn;
}

export interface JobServiceSpec {
  name: string;
  summary: string;
  flags?: JobFlag[];
}

/** Exit code of `--once` when another instance holds the lock (EX_TEMPFAIL: try again later). */
export const EXIT_LOCKED = 75;

/**
 * The wiring the three scheduled services share, so each main.ts is a table of contents:
 *   `<service> --once [flags]` runs one job and exits (0 ok, 1 failed, 75 locked elsewhere);
 *   `<service>` stays up: management server (/healthz, /readyz, /metrics), a run on start if
 *   configured, then one per SCHEDULE tick; SIGTERM lets the current run finish and exits 0.
 */
export async function runJobService(
  spec: JobServiceSpec,
  config: Readonly<JobServiceConfig>,
  argv: readonly string[],
  /** `fatal`: for a failure found after the start (a check that could only run later): logs it and exits 1. */
  build: (ctx: { logger: Logger; metrics: ServiceMetrics; args: JobArgs; fatal: (err: unknown) => void }) => Promise<JobServiceParts>,
): Promise<void> {
  let args: JobArgs;
  try {
    args = parseJobArgs(argv, spec.flags);
  } catch (err) {
    if (!(err instanceof JobArgsError)) throw err;
    process.stderr.write(`${spec.name}: ${err.message}\n\n${jobUsage(spec.name, spec.summary, spec.flags)}`);
    process.exit(2);
  }
  if (args.help) {
    process.stdout.write(jobUsage(spec.name, spec.summary, spec.flags));
    return;
  }
  const logger = createLogger({ service: spec.name, level: config.LOG_LEVEL, redactPersonalData: config.LOG_REDACT_PERSONAL_DATA });
  const lifecycle = new Lifecycle(logger, { shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT });
  lifecycle.installProcessHandlers();
  const metrics = new ServiceMetrics(spec.name);
  try {
    const parts = await build({ logger, metrics, args, fatal: (err) => lifecycle.fatal(err, 'stopped') });
    for (const r of parts.resources) lifecycle.onShutdown(r.name, r.close);
    const runner = new JobRunner(spec.name, parts.db, parts.run, logger, metrics);

    if (args.once) {
      lifecycle.onShutdown('job', () => runner.stop());
      const outcome = await runner.runOnce(args);
      if (outcome.status === 'failed' && outcome.fatal) {
        lifecycle.fatal(outcome.fatal, 'stopped');
        return;
      }
      const code = outcome.status === 'succeeded' ? 0 : outcome.status === 'failed' ? 1 : EXIT_LOCKED;
      await lifecycle.shutdown(code);
      return;
    }

    const mgmt = await startManagementServer({
      port: config.MANAGEMENT_PORT,
      host: config.MANAGEMENT_HOST,
      metrics,
      logger,
      checks: parts.readiness,
    });
    lifecycle.onShutdown('management server', () => mgmt.close());
    lifecycle.onShutdown('job', () => runner.stop());
    // Ticks that find a run still going are skipped by the runner (and counted as skipped).
    // A run that met a schema error stops the service with it: the next runs would only fail the same way.
    // Between runs (5 min to 1 h) the process waits: what a run grew goes back once it ended.
    const idle = releaseMemoryWhenIdle({ afterMs: config.IDLE_GC_AFTER, logger });
    lifecycle.onShutdown('idle memory', () => idle.stop());
    const run = () => {
      const done = idle.begin();
      void runner
        .runOnce(args)
        .then((o) => {
          if (o.status === 'failed' && o.fatal) lifecycle.fatal(o.fatal, 'stopped');
        })
        .finally(done);
    };
    const task: ScheduledTask = schedule(config.SCHEDULE, run, { name: spec.name, noOverlap: false });
    lifecycle.onShutdown('schedule', () => task.stop());
    lifecycle.onShutdown('readiness', () => mgmt.markShuttingDown());
    logger.info({ schedule: config.SCHEDULE, next: task.getNextRun(), management: mgmt.url }, 'scheduled service started');
    if (config.RUN_ON_START) run();
  } catch (err) {
    lifecycle.fatal(err, 'start failed');
  }
}
