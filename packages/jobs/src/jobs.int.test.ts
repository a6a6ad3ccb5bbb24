import { baseConfigSchema, loadConfig } from '@tally/config';
import { createTempDatabase, migrateLatest, type TempDatabase } from '@tally/db';
import { createLogger, ServiceMetrics } from '@tally/runtime';
import { JobRunner } from './runner';
import { lockName, tryJobLock } from './lock';
import type { JobArgs } from './args';

const env = loadConfig(baseConfigSchema);
const args: JobArgs = { once: true, help: false, flags: new Set() };
const logger = createLogger({ service: 'jobs-test', level: 'silent' });
let tmp: TempDatabase;

beforeAll(async () => {
  tmp = await createTempDatabase(env.MYSQL_URL, 'tally_test_jobs');
  await migrateLatest(tmp.db);
});
afterAll(async () => {
  await tmp.drop();
});

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('JobRunner on MySQL', () => {
  it('records a successful run with its items and sets the metrics', async () => {
    const metrics = new ServiceMetrics('jobs_ok', { defaultMetrics: false });
    const runner = new JobRunner('ok-job', tmp.db, async () => ({ items: 42 }), logger, metrics);
    const out = await runner.runOnce(args);
    expect(out).toMatchObject({ status: 'succeeded', items: 42 });
    const row = await tmp.db('job_runs').where({ job: 'ok-job' }).first();
    expect(row).toMatchObject({ status: 'succeeded', items: 42 });
    expect(row.finished_at).toBeInstanceOf(Date);
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/tally_job_runs_total\{status="succeeded",service="jobs_ok"\} 1/);
    expect(text).toMatch(/tally_job_last_run_items\{service="jobs_ok"\} 42/);
    expect(text).not.toMatch(/tally_job_last_success_timestamp_seconds\{service="jobs_ok"\} 0\b/);
  });

  it('records a failed run with its error and keeps last success untouched', async () => {
    const metrics = new ServiceMetrics('jobs_fail', { defaultMetrics: false });
    const runner = new JobRunner(
      'fail-job',
      tmp.db,
      async () => {
        throw new Error('bulk endpoint said no');
      },
      logger,
      metrics,
    );
    const out = await runner.runOnce(args);
    expect(out).toMatchObject({ status: 'failed', error: 'bulk endpoint said no' });
    const row = await tmp.db('job_runs').where({ job: 'fail-job' }).first();
    expect(row).toMatchObject({ status: 'failed', error: 'bulk endpoint said no' });
    expect(await metrics.registry.metrics()).toMatch(/tally_job_last_success_timestamp_seconds\{service="jobs_fail"\} 0\b/);
    expect(out).not.toHaveProperty('fatal');
  });

  it('marks a run that met a schema error (a mapped column gone) as fatal: retrying cannot heal it', async () => {
    const metrics = new ServiceMetrics('jobs_schema', { defaultMetrics: false });
    const runner = new JobRunner(
      'schema-job',
      tmp.db,
      async () => {
        await tmp.db.raw('SELECT no_such_column FROM job_runs');
        return { items: 0 };
      },
      logger,
      metrics,
    );
    const out = await runner.runOnce(args);
    expect(out).toMatchObject({ status: 'failed', fatal: { code: 'SCHEMA_MISMATCH', retriable: false, exitCode: 2 } });
    expect(out.status === 'failed' && out.fatal?.message).toMatch(/Unknown column 'no_such_column'.*tally adopt check/);
  });

  it('never runs twice at once: in the same process, nor in another instance (MySQL lock)', async () => {
    const gate = deferred();
    let active = 0;
    let maxActive = 0;
    const fn = async () => {
      active++;
      maxActive = Math.max(maxActive, active);
      await gate.promise;
      active--;
      return { items: 1 };
    };
    const a = new JobRunner('locked-job', tmp.db, fn, logger, new ServiceMetrics('jobs_a', { defaultMetrics: false }));
    // A second instance: its own knex pool, so its own MySQL sessions, as another process would have.
    const otherDb = (await import('@tally/clients')).createMysql({ url: tmp.url, poolMax: 2 });
    const b = new JobRunner('locked-job', otherDb, fn, logger, new ServiceMetrics('jobs_b', { defaultMetrics: false }));
    try {
      const first = a.runOnce(args);
      await new Promise((r) => setTimeout(r, 200));
      expect(active).toBe(1);
      expect(await a.runOnce(args)).toEqual({ status: 'skipped', reason: 'running_here' });
      expect(await b.runOnce(args)).toEqual({ status: 'skipped', reason: 'locked_elsewhere' });
      gate.resolve();
      expect((await first).status).toBe('succeeded');
      // Released: the other instance can run now.
      expect((await b.runOnce(args)).status).toBe('succeeded');
      expect(maxActive).toBe(1);
    } finally {
      await otherDb.destroy();
    }
  });

  it('a lock held by a session that dies is free at once', async () => {
    // Another process's session, closed without RELEASE_LOCK as a SIGKILLed process's would be.
    const mysql = await import('mysql2/promise');
    const conn = await mysql.createConnection(tmp.url);
    const [rows] = await conn.query('SELECT GET_LOCK(?, 0) AS got', [lockName(tmp.name, 'crash-job')]);
    expect(Number((rows as { got: number }[])[0]!.got)).toBe(1);
    expect(await tryJobLock(tmp.db, 'crash-job')).toBeUndefined();
    conn.destroy();
    await new Promise((r) => setTimeout(r, 200));
    const again = await tryJobLock(tmp.db, 'crash-job');
    expect(again).toBeDefined();
    await again!.release();
  });

  it('marks a run left "running" by a dead process as failed before the next run', async () => {
    await tmp.db('job_runs').insert({ job: 'abandoned-job', started_at: tmp.db.fn.now(3), status: 'running' });
    const runner = new JobRunner(
      'abandoned-job',
      tmp.db,
      async () => ({ items: 0 }),
      logger,
      new ServiceMetrics('jobs_ab', { defaultMetrics: false }),
    );
    await runner.runOnce(args);
    const rows = await tmp.db('job_runs').where({ job: 'abandoned-job' }).orderBy('id');
    expect(rows.map((r: { status: string }) => r.status)).toEqual(['failed', 'succeeded']);
    expect(rows[0].error).toMatch(/abandoned/);
  });
});
