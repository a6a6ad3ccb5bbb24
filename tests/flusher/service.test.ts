import { createMysql } from '@tally/clients';
import { createTempDatabase, migrateLatest, seedDemo, type TempDatabase } from '@tally/db';
import { env, eventually } from '../helpers/env';
import { ServiceProcess } from '../helpers/process';
import { testPort } from '../helpers/services';
import { metricValue, PrivateRedis } from './support';

// The flusher as an operator runs it: `--once` exit codes, the scheduled mode's /readyz and
// /metrics, job_runs rows; and what a flush leaves behind when the counter is simulated by hand
// (HINCRBY pending + INCRBY display, as its script does): display = MySQL + pending, unknown
// movies reported and never invented.
const redis = new PrivateRedis(28_000);
const MGMT = testPort(28_600);
let temp: TempDatabase;
const procs: ServiceProcess[] = [];

function flusher(extra: Record<string, string> = {}, args = ['--once']): ServiceProcess {
  const p = new ServiceProcess(
    'services/flusher/dist/main.js',
    { MYSQL_URL: temp.url, REDIS_URL: redis.url, LOG_LEVEL: 'warn', ...extra },
    args,
  );
  procs.push(p);
  return p;
}

async function counts(id: number): Promise<{ views: number; downloads: number; likes: number }> {
  const r = (await temp.db('jav').where({ id }).first('views', 'downloads', 'likes')) as Record<string, number | string>;
  return { views: Number(r.views), downloads: Number(r.downloads), likes: Number(r.likes) };
}

/** What the counter's script does for one counted delta. */
async function count(metric: string, id: number, delta: number): Promise<void> {
  await redis.client.multi().incrby(`jav:${metric}:${id}`, delta).hincrby('tally:counter:pending', `${metric}:${id}`, delta).exec();
}

beforeAll(async () => {
  temp = await createTempDatabase(env.MYSQL_URL, 'tally_flusher_svc');
  await migrateLatest(temp.db);
  await seedDemo(temp.db, { movies: 5, actors: 2, tags: 2, users: 2, seed: 5 });
  await redis.start();
}, 60_000);

afterAll(async () => {
  await Promise.all(procs.map((p) => p.kill()));
  await redis.stop();
  await temp.drop();
});

describe('flusher --once', () => {
  it('exit 0 after a flush: MySQL has the deltas and counts_updated_at, display = MySQL + pending, offsets recorded', async () => {
    const before = await counts(1);
    for (const m of ['views', 'downloads', 'likes']) await redis.client.set(`jav:${m}:1`, String(before[m as keyof typeof before]));
    await count('views', 1, 7);
    await count('likes', 1, -2);
    await redis.client.hset('tally:counter:pending', 'off:t.movie.viewed:3', '41');
    // A display key that drifted (a re-seed raced an earlier flush, and the seed script noted it): the
    // flush puts it right, and only the noted keys are re-aligned.
    await redis.client.incrby('jav:downloads:1', 5);
    await redis.client.sadd('tally:counter:realign', 'downloads:1');
    await redis.client.set('jav:views:2', '999999'); // drifted but not noted: left as it is

    expect((await flusher().waitExit()).code).toBe(0);
    expect(await counts(1)).toEqual({ views: before.views + 7, downloads: before.downloads, likes: before.likes - 2 });
    const row = (await temp.db('jav').where({ id: 1 }).first('counts_updated_at')) as { counts_updated_at: Date | null };
    expect(Date.now() - row.counts_updated_at!.getTime()).toBeLessThan(60_000);
    expect(await redis.client.mget('jav:views:1', 'jav:downloads:1', 'jav:likes:1')).toEqual([
      String(before.views + 7),
      String(before.downloads),
      String(before.likes - 2),
    ]);
    expect(await temp.db('counter_offsets').select('topic', 'partition', 'offset')).toEqual([
      { topic: 't.movie.viewed', partition: 3, offset: 41 },
    ]);
    expect(await redis.client.exists('tally:counter:pending')).toBe(0);
    expect(await redis.client.exists('tally:counter:realign', 'tally:counter:realign:taken')).toBe(0);
    expect(await redis.client.get('jav:views:2')).toBe('999999');
    await redis.client.del('jav:views:2');

    // Deltas counted after the flush: display runs ahead of MySQL by exactly what is pending.
    await count('views', 1, 3);
    expect(Number(await redis.client.get('jav:views:1'))).toBe(
      (await counts(1)).views + Number(await redis.client.hget('tally:counter:pending', 'views:1')),
    );
    // An older offset never moves the recorded one back.
    await redis.client.hset('tally:counter:pending', 'off:t.movie.viewed:3', '40');
    expect((await flusher().waitExit()).code).toBe(0);
    expect((await temp.db('counter_offsets').first('offset')).offset).toBe(41);
    expect(Number(await redis.client.get('jav:views:1'))).toBe((await counts(1)).views);
  });

  it('exit 0 with nothing pending, recorded in job_runs', async () => {
    expect((await flusher().waitExit()).code).toBe(0);
    const last = (await temp.db('job_runs').where({ job: 'flusher' }).orderBy('id', 'desc').first('status', 'items')) as {
      status: string;
      items: number;
    };
    expect(last).toEqual({ status: 'succeeded', items: 0 });
  });

  it('exit 75 while another instance holds the job lock, and nothing is taken', async () => {
    await count('views', 2, 1);
    // Another instance's session: one pooled connection that keeps the lock until it is closed.
    const other = createMysql({ url: temp.url, poolMax: 1 });
    try {
      const [rows] = (await other.raw('SELECT GET_LOCK(?, 0) AS got', [`tally:${temp.name}:flusher`])) as [{ got: number }[]];
      expect(Number(rows[0]!.got)).toBe(1);
      expect((await flusher().waitExit()).code).toBe(75);
      expect(await redis.client.hget('tally:counter:pending', 'views:2')).toBe('1');
    } finally {
      await other.destroy();
    }
  });

  it('exit 1 when the run fails (Redis unreachable), recorded as failed', async () => {
    const p = flusher({ REDIS_URL: `redis://127.0.0.1:${testPort(28_000) + 1}` });
    expect((await p.waitExit()).code).toBe(1);
    const last = (await temp.db('job_runs').where({ job: 'flusher' }).orderBy('id', 'desc').first('status')) as { status: string };
    expect(last.status).toBe('failed');
  });

  it('exit 2 on invalid configuration, naming the variable', async () => {
    const p = flusher({ FLUSHER_FAILPOINT: 'sometimes' });
    expect((await p.waitExit()).code).toBe(2);
    expect(p.output).toMatch(/FLUSHER_FAILPOINT/);
  });
});

describe('flusher scheduled', () => {
  it('serves /readyz and /metrics, runs on its schedule, reports unknown movies without inventing rows, exits 0 on SIGTERM', async () => {
    const rowsBefore = Number(((await temp.db('jav').count({ n: '*' })) as { n: number }[])[0]!.n);
    await count('views', 999_999, 4); // a movie MySQL does not have
    await count('downloads', 3, 2);
    const p = flusher({ MANAGEMENT_PORT: String(MGMT), SCHEDULE: '*/2 * * * * *' }, []);
    await p.until(
      async () => ((await fetch(`http://127.0.0.1:${MGMT}/readyz`).catch(() => undefined))?.ok ? true : undefined),
      30_000,
      `flusher ready`,
    );
    await eventually(
      async () =>
        ((await metricValue(MGMT, 'tally_job_runs_total', 'status="succeeded"').catch(() => undefined)) ?? 0) >= 2 ? true : undefined,
      30_000,
      'two scheduled runs',
    );
    expect(await metricValue(MGMT, 'tally_job_last_success_timestamp_seconds')).toBeGreaterThan(Date.now() / 1000 - 60);
    expect(await metricValue(MGMT, 'tally_job_last_run_items')).toBeDefined();
    expect(await metricValue(MGMT, 'tally_job_run_duration_seconds_count')).toBeGreaterThanOrEqual(2);
    expect(await metricValue(MGMT, 'tally_unknown_movie_fields_total')).toBe(1);
    expect(await metricValue(MGMT, 'tally_flushed_fields_total')).toBeGreaterThanOrEqual(2);
    expect(Number(((await temp.db('jav').count({ n: '*' })) as { n: number }[])[0]!.n)).toBe(rowsBefore);
    expect(await temp.db('jav').where({ id: 999_999 }).first()).toBeUndefined();
    // As the counter's seed would have it: a movie MySQL lacks counts from 0.
    expect(await redis.client.get('jav:views:999999')).toBe('0');
    p.signal('SIGTERM');
    expect((await p.waitExit()).code).toBe(0);
    expect(p.output).toMatch(/MySQL does not have/);
  }, 60_000);
});
