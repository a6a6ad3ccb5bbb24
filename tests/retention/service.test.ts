import { createTempDatabase, migrateLatest, type TempDatabase } from '@tally/db';
import { env, eventually } from '../helpers/env';
import { ServiceProcess } from '../helpers/process';
import { testPort } from '../helpers/services';
import { DAY_MS, insertRows, rawRow } from './support';

// The retention service as an operator runs it: `--once` deletes what is past its retention and
// records the run in job_runs; the scheduled mode answers /readyz and /metrics and stops on SIGTERM
// with exit 0; a retention a replay could still reach is refused at start with exit 2.
const MGMT = testPort(29_100);
let temp: TempDatabase;
const procs: ServiceProcess[] = [];

function retention(extra: Record<string, string> = {}, args = ['--once']): ServiceProcess {
  const p = new ServiceProcess(
    'services/retention/dist/main.js',
    { MYSQL_URL: temp.url, LOG_LEVEL: 'warn', RETENTION_BATCH_PAUSE: '0ms', ...extra },
    args,
  );
  procs.push(p);
  return p;
}

beforeAll(async () => {
  temp = await createTempDatabase(env.MYSQL_URL, 'tally_retention_svc');
  await migrateLatest(temp.db);
  const now = Date.now();
  // 2,500 views from 100 days ago, 500 from 10 days ago; 300 applied ids 9 days old, 300 of 7 days.
  await insertRows(temp.db, 'view_events', [
    ...Array.from({ length: 2500 }, (_, i) => rawRow('view_events', i, now - 100 * DAY_MS + i)),
    ...Array.from({ length: 500 }, (_, i) => rawRow('view_events', 2500 + i, now - 10 * DAY_MS + i)),
  ]);
  await insertRows(
    temp.db,
    'history_applied_events',
    Array.from({ length: 600 }, (_, i) => ({
      event_id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      applied_at: new Date(now - (i < 300 ? 9 : 7) * DAY_MS),
    })),
  );
}, 60_000);

afterAll(async () => {
  await Promise.all(procs.map((p) => p.kill()));
  await temp.drop();
});

describe('retention as a process', () => {
  it('--once exits 0 having deleted only what is past each retention, recorded in job_runs', async () => {
    const p = retention({ RETENTION_BATCH_ROWS: '1000' });
    expect((await p.waitExit()).code).toBe(0);
    expect(Number((await temp.db('view_events').count({ n: '*' }).first())!.n)).toBe(500);
    expect(Number((await temp.db('history_applied_events').count({ n: '*' }).first())!.n)).toBe(300);
    const run = await temp.db('job_runs').where({ job: 'retention' }).orderBy('id', 'desc').first();
    expect(run).toMatchObject({ status: 'succeeded', items: 2800 });
  });

  it('refuses a raw-log retention inside the replay window (exit 2, naming the variable)', async () => {
    const p = retention({ RETENTION_VIEW_EVENTS: '3d' });
    expect((await p.waitExit()).code).toBe(2);
    expect(p.output).toMatch(/RETENTION_VIEW_EVENTS: must be at least 8 d/);
  });

  it('scheduled: /readyz, the retention metrics on /metrics, SIGTERM exits 0', async () => {
    const p = retention({ MANAGEMENT_PORT: String(MGMT), RUN_ON_START: 'true' }, []);
    await eventually(async () => ((await fetch(`http://127.0.0.1:${MGMT}/readyz`)).ok ? true : undefined), 30_000, 'retention ready');
    const text = await eventually(
      async () => {
        const t = await (await fetch(`http://127.0.0.1:${MGMT}/metrics`)).text();
        return /tally_job_runs_total\{status="succeeded",service="retention"\} 1/.test(t) ? t : undefined;
      },
      30_000,
      'a run on start',
    );
    expect(text).toMatch(/# TYPE tally_retention_rows_deleted_total counter/);
    expect(text).toMatch(
      /tally_retention_batch_duration_seconds_bucket\{le="1",service="retention",table="view_events"\}|tally_retention_cutoff_timestamp_seconds\{table="view_events",service="retention"\}/,
    );
    p.signal('SIGTERM');
    expect((await p.waitExit()).code).toBe(0);
  });
  it('SIGKILLed mid-run, nothing inside the retention is lost; the next run marks the dead one failed and finishes', async () => {
    const now = Date.now();
    await insertRows(
      temp.db,
      'view_events',
      Array.from({ length: 30_000 }, (_, i) => rawRow('view_events', 10_000 + i, now - 120 * DAY_MS + i)),
    );
    const count = async () => Number((await temp.db('view_events').count({ n: '*' }).first())!.n);
    // 100 ms pauses (the default): ~30 batches take a few seconds, so the kill lands mid-run.
    const p = retention({ RETENTION_BATCH_PAUSE: '100ms' });
    await eventually(async () => ((await count()) < 30_500 ? true : undefined), 20_000, 'the first batches');
    p.signal('SIGKILL');
    await p.waitExit();
    const left = await count();
    expect(left).toBeGreaterThan(500);
    expect(left).toBeLessThan(30_500);
    // The 500 rows inside the retention are all there, whatever batch the kill interrupted.
    expect(
      Number(
        (await temp
          .db('view_events')
          .where('received_at', '>=', new Date(now - 90 * DAY_MS))
          .count({ n: '*' })
          .first())!.n,
      ),
    ).toBe(500);
    expect((await retention().waitExit()).code).toBe(0);
    expect(await count()).toBe(500);
    const runs = (await temp.db('job_runs').where({ job: 'retention' }).orderBy('id')) as { status: string; error: string | null }[];
    expect(runs.slice(-2).map((r) => r.status)).toEqual(['failed', 'succeeded']);
    expect(runs.at(-2)!.error).toMatch(/abandoned/);
  }, 60_000);
});
