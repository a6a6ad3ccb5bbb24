/**
 * Soak run (`npm run bench -- --soak`): the whole pipeline — ingest-api, counter, event-logger,
 * history — under a steady load for BENCH_SOAK_SECONDS (default 600) at half of the maximum this
 * pipeline reaches in the same run (measured first, 1-event requests), in windows of 30 s. Per
 * window: each service's resident memory, the consumers' lag, freshness p99 (POST → Redis, POST →
 * MySQL) and the API's latency. Verdicts (issue #19): RSS flat after the warm-up (the last window at
 * most 10 % over the first one after it), lag bounded (never above two seconds of traffic, and not
 * higher at the end than after the warm-up), freshness p99 held (counter < 1 s, MySQL < 2 s, in
 * every window). Isolated: own topics, own MySQL database, Redis database 13.
 * Env: BENCH_SOAK_SECONDS, BENCH_SOAK_WARMUP_SECONDS (default 120), BENCH_SOAK_RATE (skip the
 * maximum and use this rate).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import autocannon from 'autocannon';
import { createTempDatabase, migrateLatest, seedDemo } from '@tally/db';
import { topicNames } from '@tally/events';
import { buckets, clientEvent, metric, p99, rssNowMb, startService, until } from './probe';

const ROOT = resolve(__dirname, '../..');
const env = process.env;
const SECONDS = Number(env.BENCH_SOAK_SECONDS ?? 600);
const WARMUP = Number(env.BENCH_SOAK_WARMUP_SECONDS ?? 120);
const WINDOW = 30;
const MYSQL_URL = env.MYSQL_URL ?? 'mysql://tally:tally@127.0.0.1:3306/tally';
const REDIS_URL = `${env.REDIS_URL ?? 'redis://127.0.0.1:6379'}/13`;
const API_PORT = 18_096;
const PORTS = { counter: 19_832, 'event-logger': 19_831, history: 19_833 } as const;
type Consumer = keyof typeof PORTS;
const CONSUMERS = Object.keys(PORTS) as Consumer[];
const TARGET = { rssGrowth: 0.1, lagSeconds: 2, freshCounter: 1, freshMysql: 2 };

interface Window {
  at: number;
  rate: number;
  apiP99Ms: number;
  non2xx: number;
  rssMb: Record<'ingest-api' | Consumer, number>;
  lag: number;
  freshCounterP99: number;
  freshMysqlP99: number;
}

/** Views and downloads of 1,000 movies by guests: what a browser key sends without a user token. */
function load(rate: number, seconds: number): Promise<autocannon.Result> {
  let n = 0;
  const base = clientEvent();
  return autocannon({
    url: `http://127.0.0.1:${API_PORT}/v1/events`,
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer bench' },
    connections: 32,
    duration: seconds,
    ...(rate > 0 ? { overallRate: rate } : {}),
    requests: [
      {
        setupRequest: (req) => {
          const i = n++;
          const body = { ...base, type: i % 5 === 4 ? 'movie.downloaded' : 'movie.viewed', jav_id: 1 + (i % 1000) };
          return { ...req, body: JSON.stringify(body) };
        },
      },
    ],
  });
}

async function lag(): Promise<number> {
  let sum = 0;
  for (const c of CONSUMERS) sum += await metric(PORTS[c], 'tally_consumer_lag_messages');
  return sum;
}

async function main(): Promise<void> {
  const names = topicNames(`bench_soak_${randomUUID().slice(0, 8)}.`);
  execFileSync(process.execPath, [resolve(ROOT, 'packages/cli/dist/bin.js'), 'setup'], {
    env: { ...env, TOPIC_PREFIX: names.prefix },
    stdio: 'ignore',
  });
  const temp = await createTempDatabase(MYSQL_URL, 'tally_soak');
  const procs: ChildProcess[] = [];
  try {
    await migrateLatest(temp.db);
    await seedDemo(temp.db, { movies: 1000, actors: 100, tags: 20, users: 500, seed: 1 });
    execFileSync('redis-cli', ['-n', '13', 'flushdb']);
    const common = { TOPIC_PREFIX: names.prefix, MYSQL_URL: temp.url, REDIS_URL };
    const api = spawn(process.execPath, [resolve(ROOT, 'services/ingest-api/dist/main.js')], {
      env: { ...env, ...common, PORT: String(API_PORT), LOG_LEVEL: 'warn', BROWSER_KEYS: 'bench', RATE_LIMIT_MAX: '100000000' },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    procs.push(api);
    const consumers = Object.fromEntries(
      CONSUMERS.map((c) => [c, startService(c, PORTS[c], { ...common, GROUP_ID: `bench-soak-${c}-${randomUUID()}` })]),
    ) as Record<Consumer, ChildProcess>;
    procs.push(...Object.values(consumers));
    for (const c of CONSUMERS) await until(async () => (await fetch(`http://127.0.0.1:${PORTS[c]}/readyz`)).ok, 60_000);
    await until(async () => (await fetch(`http://127.0.0.1:${API_PORT}/readyz`)).ok, 60_000);

    const fixed = Number(env.BENCH_SOAK_RATE ?? 0);
    let max = NaN;
    if (fixed <= 0) {
      // Warm-up first: a fresh ingest API answers 1-event requests about 2.5 times slower in its first
      // 5 s than after 20 s (JIT, the producer's connections), which made the half-maximum rate too low.
      process.stdout.write('soak: warm-up, 20 s…\n');
      await load(0, 20);
      process.stdout.write('soak: the pipeline’s maximum, 1-event requests, 10 s…\n');
      const r = await load(0, 10);
      max = r['2xx'] / 10;
    }
    const rate = fixed > 0 ? fixed : Math.max(1, Math.round(max / 2));
    process.stdout.write(
      `soak: ${SECONDS} s at ${rate} req/s (${fixed > 0 ? 'BENCH_SOAK_RATE' : `half of ${Math.round(max)}`}), windows of ${WINDOW} s…\n`,
    );
    // Let the consumers catch up with the maximum's burst before the first window.
    await until(async () => (await lag()) < rate, 120_000, 1_000);

    const windows: Window[] = [];
    const fresh = async () => ({
      c: await buckets(PORTS.counter, 'tally_event_freshness_seconds'),
      l: await buckets(PORTS['event-logger'], 'tally_event_freshness_seconds'),
    });
    const header = `${'t (s)'.padStart(6)} ${'req/s'.padStart(7)} ${'p99 ms'.padStart(7)} ${'RSS ingest/counter/logger/history MB'.padStart(38)} ${'lag'.padStart(7)} ${'fresh p99 Redis/MySQL s'.padStart(24)}\n`;
    process.stdout.write(header);
    for (let t = 0; t < SECONDS; t += WINDOW) {
      const before = await fresh();
      const r = await load(rate, Math.min(WINDOW, SECONDS - t));
      const after = await fresh();
      const w: Window = {
        at: t + WINDOW,
        rate: r['2xx'] / Math.min(WINDOW, SECONDS - t),
        apiP99Ms: r.latency.p99,
        non2xx: r.non2xx,
        rssMb: {
          'ingest-api': rssNowMb(api.pid!),
          counter: rssNowMb(consumers.counter.pid!),
          'event-logger': rssNowMb(consumers['event-logger'].pid!),
          history: rssNowMb(consumers.history.pid!),
        },
        lag: await lag(),
        freshCounterP99: p99(before.c, after.c),
        freshMysqlP99: p99(before.l, after.l),
      };
      windows.push(w);
      const rss = Object.values(w.rssMb)
        .map((v) => v.toFixed(0))
        .join(' / ');
      process.stdout.write(
        `${String(w.at).padStart(6)} ${w.rate.toFixed(0).padStart(7)} ${String(w.apiP99Ms).padStart(7)} ${rss.padStart(38)} ${String(w.lag).padStart(7)} ${`${w.freshCounterP99} / ${w.freshMysqlP99}`.padStart(24)}\n`,
      );
    }
    report(rate, max, windows);
  } finally {
    for (const p of procs) p.kill('SIGTERM');
    await temp.drop();
    execFileSync('redis-cli', ['-n', '13', 'flushdb']);
  }
}

function report(rate: number, max: number, windows: Window[]): void {
  const steady = windows.filter((w) => w.at > WARMUP);
  if (steady.length < 2) throw new Error(`soak too short: ${windows.length} windows, the warm-up (${WARMUP} s) leaves ${steady.length}`);
  const first = steady[0]!;
  const last = steady[steady.length - 1]!;
  const services = Object.keys(first.rssMb) as (keyof Window['rssMb'])[];
  const growth = Object.fromEntries(services.map((s) => [s, last.rssMb[s] / first.rssMb[s] - 1])) as Record<string, number>;
  const worstGrowth = Math.max(...Object.values(growth));
  const maxLag = Math.max(...steady.map((w) => w.lag));
  const lagBound = rate * TARGET.lagSeconds;
  const worstCounter = Math.max(...steady.map((w) => w.freshCounterP99));
  const worstMysql = Math.max(...steady.map((w) => w.freshMysqlP99));
  const verdicts = [
    [
      'RSS growth after warm-up (last / first window)',
      services.map((s) => `${s} ${(growth[s]! * 100).toFixed(1)} %`).join(', '),
      (worstGrowth / TARGET.rssGrowth).toFixed(2),
      `target ≤ ${TARGET.rssGrowth * 100} %`,
    ],
    [
      'consumer lag, most after warm-up',
      `${maxLag} messages`,
      (maxLag / lagBound).toFixed(2),
      `bound ${lagBound} (${TARGET.lagSeconds} s of traffic); at the end ${last.lag}`,
    ],
    [
      'freshness p99 POST → Redis, worst window',
      `≤ ${worstCounter} s`,
      (worstCounter / TARGET.freshCounter).toFixed(2),
      `target < ${TARGET.freshCounter} s`,
    ],
    [
      'freshness p99 POST → MySQL, worst window',
      `≤ ${worstMysql} s`,
      (worstMysql / TARGET.freshMysql).toFixed(2),
      `target < ${TARGET.freshMysql} s`,
    ],
    ['requests refused or failed', String(windows.reduce((n, w) => n + w.non2xx, 0)), '', 'non-2xx answers over the whole run'],
  ];
  process.stdout.write(`\n${'measure'.padEnd(48)} ${'value'.padStart(44)} ${'ratio'.padStart(6)}  note\n`);
  for (const [a, b, c, d] of verdicts) process.stdout.write(`${a!.padEnd(48)} ${b!.padStart(44)} ${c!.padStart(6)}  ${d}\n`);
  mkdirSync(resolve(__dirname, '../results'), { recursive: true });
  const file = resolve(__dirname, `../results/soak-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(
    file,
    JSON.stringify(
      {
        at: new Date().toISOString(),
        seconds: SECONDS,
        warmupSeconds: WARMUP,
        windowSeconds: WINDOW,
        maxReqPerSec: max,
        rate,
        targets: TARGET,
        growth,
        maxLag,
        lagBound,
        worstCounter,
        worstMysql,
        windows,
      },
      null,
      2,
    ),
  );
  process.stdout.write(`\nwritten ${file}\n`);
}

main().catch((err) => {
  process.stderr.write(`bench: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
