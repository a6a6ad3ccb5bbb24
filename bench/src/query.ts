/**
 * Query benchmark against the real stack: GET /v1/movies/:id/counts of query-api beside a bare
 * Fastify route that reads the same three Redis keys with one MGET (the floor for "HTTP + Redis" in
 * Node on this machine), both at full speed, then query-api's latency at a fixed 2,000 req/s.
 * Prints a table and writes bench/results/query-<time>.json.
 *
 * Run: `npx tsc -b bench services/query-api && node bench/dist/query.js` with the stack up. Env:
 * BENCH_SECONDS (default 10). Reads the local stack's MySQL and Redis (movies 1–50; display keys
 * missing there are seeded by query-api exactly as the counter would).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import autocannon from 'autocannon';
import Fastify from 'fastify';
import Redis from 'ioredis';
import { cpuMs } from './probe';
import { DEFAULT_APP_KEYS, METRICS } from '@tally/layout';

const ROOT = resolve(__dirname, '../..');

const env = process.env;
const SECONDS = Number(env.BENCH_SECONDS ?? 10);
const QUERY_PORT = 18_190;
const BARE_PORT = 18_191;
const MOVIES = 50;
const FIXED_RATE = 2_000;
/** Issue #19: query-api's max ≥ 0.80 of the bare route's; its p99 at the fixed rate ≤ 1.5 × the bare route's. */
const MAX_TARGET = 0.8;
const P99_TARGET = 1.5;

/**
 * The comparison: Fastify + ioredis, the same one MGET of the six display keys query-api reads
 * (the app's default `jav:` layout), the same answer, no validation, no rate limit, no metrics.
 */
async function bareServer(): Promise<void> {
  const redis = new Redis(env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  const app = Fastify();
  app.get<{ Params: { id: string } }>('/v1/movies/:id/counts', async (req) => {
    const id = Number(req.params.id);
    const v = (await redis.mget(METRICS.map((m) => DEFAULT_APP_KEYS.display(m, id)))).map(Number);
    const [views, downloads, likes, ratingCount, ratingSum, watchlists] = v as [number, number, number, number, number, number];
    const avg = ratingCount > 0 ? Math.round((ratingSum / ratingCount) * 100) / 100 : null;
    return { jav_id: id, views, downloads, likes, rating_count: ratingCount, rating_avg: avg, watchlists };
  });
  await app.listen({ port: BARE_PORT, host: '127.0.0.1' });
}

async function waitOk(url: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if ((await fetch(url).catch(() => undefined))?.ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not come up`);
}

/** Requests cycle over movies 1–50, so the route does real key lookups rather than one hot key. */
function load(port: number, opts: Partial<autocannon.Options>): Promise<autocannon.Result> {
  let n = 0;
  return autocannon({
    url: `http://127.0.0.1:${port}`,
    duration: SECONDS,
    requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, path: `/v1/movies/${1 + (n++ % MOVIES)}/counts` }) }],
    ...opts,
  });
}

type Measured = autocannon.Result & { cpuUsPerRequest: number };

/** A load run, with the server's CPU time per answered request beside the rate. */
async function measured(server: ChildProcess, port: number, opts: Partial<autocannon.Options>): Promise<Measured> {
  const before = cpuMs(server.pid!);
  const result = await load(port, opts);
  return { ...result, cpuUsPerRequest: ((cpuMs(server.pid!) - before) * 1000) / Math.max(1, result['2xx']) };
}

function child(args: string[], extraEnv: Record<string, string>): ChildProcess {
  return spawn(process.execPath, args, { env: { ...env, ...extraEnv }, stdio: ['ignore', 'inherit', 'inherit'] });
}

async function main(): Promise<void> {
  if (process.argv[2] === 'bare') return bareServer();
  // BENCH_NODE_ARGS (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`) goes to query-api's node, as in probe.ts.
  const nodeArgs = (env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const query = child([...nodeArgs, resolve(ROOT, 'services/query-api/dist/main.js')], {
    PORT: String(QUERY_PORT),
    LOG_LEVEL: 'warn',
    RATE_LIMIT_MAX: '100000000',
  });
  const bare = child([__filename, 'bare'], {});
  try {
    await waitOk(`http://127.0.0.1:${QUERY_PORT}/readyz`);
    await waitOk(`http://127.0.0.1:${BARE_PORT}/v1/movies/1/counts`);
    // Warm-up: seeds any missing display key and lets V8 optimise both servers before measuring.
    for (let id = 1; id <= MOVIES; id++)
      if (!(await fetch(`http://127.0.0.1:${QUERY_PORT}/v1/movies/${id}/counts`)).ok)
        throw new Error(`movie ${id}: not found — seed the local stack first (tally db seed)`);
    await load(QUERY_PORT, { connections: 16, duration: 2 });
    await load(BARE_PORT, { connections: 16, duration: 2 });
    process.stdout.write('query-api counts, full speed…\n');
    const queryMax = await measured(query, QUERY_PORT, { connections: 32 });
    process.stdout.write('bare Fastify + Redis MGET, full speed…\n');
    const bareMax = await measured(bare, BARE_PORT, { connections: 32 });
    process.stdout.write(`query-api counts at a fixed ${FIXED_RATE} req/s…\n`);
    const fixed = await measured(query, QUERY_PORT, { connections: 32, overallRate: FIXED_RATE });
    process.stdout.write(`bare route at a fixed ${FIXED_RATE} req/s (the latency floor of this machine and load generator)…\n`);
    const bareFixed = await measured(bare, BARE_PORT, { connections: 32, overallRate: FIXED_RATE });
    report({ queryMax, bareMax, fixed, bareFixed });
  } finally {
    query.kill('SIGTERM');
    bare.kill('SIGTERM');
  }
}

function report(r: { queryMax: Measured; bareMax: Measured; fixed: Measured; bareFixed: Measured }): void {
  const rps = (x: autocannon.Result) => x['2xx'] / SECONDS;
  const ratio = rps(r.queryMax) / rps(r.bareMax);
  const p99Ratio = r.fixed.latency.p99 / Math.max(1, r.bareFixed.latency.p99);
  const rows = [
    ['bare Fastify route, Redis MGET (max)', `${Math.round(rps(r.bareMax))} req/s`, '1.00 (limit)', `p99 ${r.bareMax.latency.p99} ms`],
    [
      'query-api GET counts (max)',
      `${Math.round(rps(r.queryMax))} req/s`,
      ratio.toFixed(2),
      `target ≥ ${MAX_TARGET}; p99 ${r.queryMax.latency.p99} ms; non-2xx ${r.queryMax.non2xx}`,
    ],
    [
      `bare route at ${FIXED_RATE} req/s, p50 / p99`,
      `${r.bareFixed.latency.p50} / ${r.bareFixed.latency.p99} ms`,
      '1.00 (limit)',
      'the floor here: same rate, same load generator',
    ],
    [
      'server CPU per request (max run)',
      `${r.queryMax.cpuUsPerRequest.toFixed(0)} / ${r.bareMax.cpuUsPerRequest.toFixed(0)} µs`,
      (r.bareMax.cpuUsPerRequest / r.queryMax.cpuUsPerRequest).toFixed(2),
      'query-api / bare route; ratio bare ÷ query-api, the rate ratio two idle cores would give',
    ],
    [
      `query-api at ${FIXED_RATE} req/s, p50 / p99`,
      `${r.fixed.latency.p50} / ${r.fixed.latency.p99} ms`,
      p99Ratio.toFixed(2),
      `p99 to the bare route's (target ≤ ${P99_TARGET}); ${Math.round(rps(r.fixed))} req/s served; non-2xx ${r.fixed.non2xx}`,
    ],
  ];
  process.stdout.write(`\n${'measure'.padEnd(40)} ${'value'.padStart(16)} ${'ratio'.padStart(13)}  note\n`);
  for (const [a, b, c, d] of rows) process.stdout.write(`${a!.padEnd(40)} ${b!.padStart(16)} ${c!.padStart(13)}  ${d}\n`);
  mkdirSync(resolve(__dirname, '../results'), { recursive: true });
  const file = resolve(__dirname, `../results/query-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  const cpu = execFileSync('nproc', { encoding: 'utf8' }).trim();
  writeFileSync(
    file,
    JSON.stringify(
      {
        at: new Date().toISOString(),
        seconds: SECONDS,
        cpus: Number(cpu),
        movies: MOVIES,
        bareMax: {
          reqPerSec: rps(r.bareMax),
          latency: r.bareMax.latency,
          non2xx: r.bareMax.non2xx,
          cpuUsPerRequest: r.bareMax.cpuUsPerRequest,
        },
        queryMax: {
          reqPerSec: rps(r.queryMax),
          ratioToBare: ratio,
          ratioTarget: MAX_TARGET,
          latency: r.queryMax.latency,
          non2xx: r.queryMax.non2xx,
          cpuUsPerRequest: r.queryMax.cpuUsPerRequest,
        },
        fixed: {
          rate: FIXED_RATE,
          reqPerSec: rps(r.fixed),
          latency: r.fixed.latency,
          non2xx: r.fixed.non2xx,
          p99TargetMs: 5,
          p99RatioToBare: p99Ratio,
          p99RatioTarget: P99_TARGET,
          cpuUsPerRequest: r.fixed.cpuUsPerRequest,
        },
        bareFixed: { rate: FIXED_RATE, latency: r.bareFixed.latency, cpuUsPerRequest: r.bareFixed.cpuUsPerRequest },
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
