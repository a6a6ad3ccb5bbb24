import type { Knex } from 'knex';
import type { Counter, Gauge, Histogram } from 'prom-client';
import { classifyStoreError, errorMessage, TallyError, type Logger, type ServiceMetrics } from '@tally/runtime';
import { tryJobLock, type HeldLock } from './lock';
import type { JobArgs } from './args';

export interface JobContext {
  logger: Logger;
  /** Aborted on SIGTERM: stop at the next safe point (a run killed anywhere must be safe anyway). */
  signal: AbortSignal;
  /** The job_runs row of this run. */
  runId: number;
  args: JobArgs;
}

export interface JobResult {
  /** Items moved (counters flushed, documents synced, snapshots written): the job's unit of work. */
  items: number;
  summary?: Record<string, unknown>;
}

export type JobOutcome =
  | { status: 'succeeded'; runId: number; items: number; ms: number; summary?: Record<string, unknown> }
  /** `fatal`: a failure retrying cannot heal (the app's schema changed under the job): the service stops with it. */
  | { status: 'failed'; runId: number; ms: number; error: string; fatal?: TallyError }
  | { status: 'skipped'; reason: 'running_here' | 'locked_elsewhere' };

export type JobFn = (ctx: JobContext) => Promise<JobResult>;

type LockFn = (db: Knex, job: string) => Promise<HeldLock | undefined>;

/**
 * One run of a job, whoever triggers it (schedule, --once, a test): never two at once in this
 * process, never two across instances (MySQL named lock), each recorded in job_runs and in metrics
 * (last success, duration, items) that the admin UI and alerts read.
 */
export class JobRunner {
  private current: Promise<JobOutcome> | undefined;
  private readonly abort = new AbortController();
  private readonly runs: Counter<'status'>;
  private readonly lastSuccess: Gauge;
  private readonly lastDuration: Gauge;
  private readonly lastItems: Gauge;
  private readonly duration: Histogram;
  private readonly running: Gauge;

  constructor(
    private readonly job: string,
    private readonly db: Knex,
    private readonly fn: JobFn,
    private readonly logger: Logger,
    metrics: ServiceMetrics,
    private readonly lock: LockFn = tryJobLock,
  ) {
    this.runs = metrics.counter('job_runs_total', 'Job runs by outcome (skipped = previous run still going here or elsewhere)', ['status']);
    this.lastSuccess = metrics.gauge('job_last_success_timestamp_seconds', 'Unix time the last successful run finished (alert on its age)');
    this.lastDuration = metrics.gauge('job_last_run_duration_seconds', 'Duration of the last finished run');
    this.lastItems = metrics.gauge('job_last_run_items', 'Items handled by the last successful run');
    this.duration = metrics.histogram(
      'job_run_duration_seconds',
      'Run durations',
      [],
      [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900],
    );
    this.running = metrics.gauge('job_running', '1 while a run is in progress in this process');
  }

  get isRunning(): boolean {
    return this.current !== undefined;
  }

  /** Runs the job now unless a run is already going (here or in another instance). */
  runOnce(args: JobArgs): Promise<JobOutcome> {
    if (this.current) {
      this.runs.inc({ status: 'skipped' });
      this.logger.warn({ job: this.job }, 'previous run still in progress here: skipping this one');
      return Promise.resolve({ status: 'skipped', reason: 'running_here' });
    }
    this.current = this.execute(args).finally(() => {
      this.current = undefined;
    });
    return this.current;
  }

  /** Stops future work: the current run sees its signal aborted; resolves when it has finished. */
  async stop(): Promise<void> {
    this.abort.abort();
    if (this.current) await this.current;
  }

  private async execute(args: JobArgs): Promise<JobOutcome> {
    const lock = await this.lock(this.db, this.job);
    if (!lock) {
      this.runs.inc({ status: 'skipped' });
      this.logger.warn({ job: this.job }, 'another instance holds the job lock: skipping this run');
      return { status: 'skipped', reason: 'locked_elsewhere' };
    }
    this.running.set(1);
    const t0 = process.hrtime.bigint();
    let runId = 0;
    try {
      // We hold the lock, so a 'running' row left behind can only be a run that died.
      await this.db('job_runs')
        .where({ job: this.job, status: 'running' })
        .update({ status: 'failed', finished_at: this.db.fn.now(3), error: 'abandoned: the process running it stopped before finishing' });
      const [id] = await this.db('job_runs').insert({ job: this.job, started_at: this.db.fn.now(3), status: 'running' });
      runId = Number(id);
      const logger = this.logger.child({ job: this.job, runId });
      logger.info({ args: { once: args.once, flags: [...args.flags] } }, 'job run started');
      const result = await this.fn({ logger, signal: this.abort.signal, runId, args });
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      await this.db('job_runs')
        .where({ id: runId })
        .update({ status: 'succeeded', finished_at: this.db.fn.now(3), items: result.items });
      this.runs.inc({ status: 'succeeded' });
      this.lastSuccess.set(Date.now() / 1000);
      this.lastDuration.set(ms / 1000);
      this.lastItems.set(result.items);
      this.duration.observe(ms / 1000);
      logger.info({ items: result.items, ms: Math.round(ms), ...result.summary }, 'job run succeeded');
      return { status: 'succeeded', runId, items: result.items, ms, ...(result.summary ? { summary: result.summary } : {}) };
    } catch (err) {
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      const error = errorMessage(err);
      this.runs.inc({ status: 'failed' });
      this.lastDuration.set(ms / 1000);
      this.duration.observe(ms / 1000);
      this.logger.error({ job: this.job, runId, err }, 'job run failed');
      if (runId) {
        await this.db('job_runs')
          .where({ id: runId })
          .update({ status: 'failed', finished_at: this.db.fn.now(3), error: error.slice(0, 60_000) })
          .catch((e: unknown) => this.logger.warn({ err: errorMessage(e) }, 'could not record the failed run'));
      }
      const classified = classifyStoreError(err);
      const fatal = classified instanceof TallyError && !classified.retriable ? classified : undefined;
      return { status: 'failed', runId, ms, error, ...(fatal ? { fatal } : {}) };
    } finally {
      this.running.set(0);
      await lock
        .release()
        .catch((e: unknown) =>
          this.logger.warn({ err: errorMessage(e) }, 'could not release the job lock (it is freed when the connection closes)'),
        );
    }
  }
}

/** Last successful run of a job, for health displays (admin UI, `tally` CLI). */
export async function lastSuccessfulRun(db: Knex, job: string): Promise<{ finishedAt: Date; items: number } | undefined> {
  const row = await db('job_runs')
    .where({ job, status: 'succeeded' })
    .orderBy('finished_at', 'desc')
    .first<{ finished_at: Date; items: number | null } | undefined>('finished_at', 'items');
  return row ? { finishedAt: row.finished_at, items: Number(row.items ?? 0) } : undefined;
}
