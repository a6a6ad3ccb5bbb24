/**
 * Probes of a running Tally service for the benchmarks: its Prometheus metrics, readiness and peak
 * memory, read the way ops would read them (over HTTP and /proc), never from inside the process.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { sampleEvents } from '@tally/events';

const ROOT = resolve(__dirname, '../..');

export async function metric(port: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith(name + '{') || l.startsWith(name + ' '))
    .reduce((n, l) => n + Number(l.split(' ').pop()), 0);
}

/** A Prometheus histogram's cumulative buckets (summed over labels): upper bound → count. */
export async function buckets(port: number, name: string): Promise<Map<number, number>> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const b = new Map<number, number>();
  for (const l of text.split('\n')) {
    const m = new RegExp(`^${name}_bucket\\{.*le="([^"]+)".*\\} (\\d+)`).exec(l);
    if (m) {
      const le = m[1] === '+Inf' ? Infinity : Number(m[1]);
      b.set(le, (b.get(le) ?? 0) + Number(m[2]));
    }
  }
  return b;
}

/** p99 of what was observed between two snapshots: the upper bound of the bucket holding it. */
export function p99(before: Map<number, number>, after: Map<number, number>): number {
  const sorted = [...after].map(([le, c]) => [le, c - (before.get(le) ?? 0)] as const).sort((a, b) => a[0] - b[0]);
  const total = sorted[sorted.length - 1]?.[1] ?? 0;
  return total === 0 ? NaN : (sorted.find(([, c]) => c >= total * 0.99)?.[0] ?? NaN);
}

/**
 * Starts a compiled service. BENCH_NODE_ARGS goes to its node (not to the benchmark's own), e.g.
 * `BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof"` for a profile of each service it runs.
 */
export function startService(name: string, port: number, extra: Record<string, string>): ChildProcess {
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  return spawn(process.execPath, [...nodeArgs, resolve(ROOT, `services/${name}/dist/main.js`)], {
    env: { ...process.env, LOG_LEVEL: 'warn', MANAGEMENT_PORT: String(port), ...extra },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

export async function until(check: () => Promise<boolean>, timeoutMs: number, everyMs = 100): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error('benchmark step timed out');
}

export async function quiet(port: number, name: string): Promise<void> {
  let last = -1;
  let since = Date.now();
  await until(async () => {
    const v = await metric(port, name);
    if (v !== last) {
      last = v;
      since = Date.now();
    }
    return Date.now() - since >= 3_000;
  }, 600_000);
}

/** The process's resident memory now (VmRSS) in MiB; NaN when /proc does not say. */
export function rssNowMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** The process's peak resident memory (VmHWM) in MiB; NaN when /proc does not say. */
export function peakRssMb(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** A movie.viewed as a browser sends it: the sample without the fields the ingest API sets itself. */
export function clientEvent(): Record<string, unknown> {
  const {
    received_at: _r,
    is_bot: _b,
    repeat_view: _v,
    ip: _i,
    user_agent: _u,
    event_id: _e,
    occurred_at: _o,
    sent_at: _s,
    ...rest
  } = sampleEvents()['movie.viewed'] as unknown as Record<string, unknown>;
  return { type: 'movie.viewed', ...rest };
}

/**
 * CPU time (user + system) the process has used so far, in ms, from /proc/<pid>/stat. Per request
 * or per event it is the figure two cores shared with a load generator cannot blur: a rate drops
 * when something else takes the core, the CPU spent on each request does not.
 */
export function cpuMs(pid: number): number {
  // Fields after the command name, which is in parentheses and may itself hold spaces.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(f[11]) + Number(f[12]); // utime, stime (fields 14 and 15 of proc(5))
  return (ticks * 1000) / clockTicks();
}

let ticksPerSecond: number | undefined;
/** USER_HZ (getconf CLK_TCK), the unit of /proc's times. */
function clockTicks(): number {
  return (ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()));
}

/**
 * A client's own ceiling, run in its own process as a service would run: `kafkajs` is
 * bench/src/kafkajs-ceiling.ts (the named client), `platformatic` bench/platformatic-ceiling.mjs
 * (a reference line, not used by Tally). Both print one JSON line {"perSec": …}.
 */
export function clientCeiling(client: 'kafkajs' | 'platformatic', ...args: string[]): number {
  const script = client === 'kafkajs' ? resolve(__dirname, 'kafkajs-ceiling.js') : resolve(__dirname, '../platformatic-ceiling.mjs');
  const out = execFileSync(process.execPath, [script, ...args], { encoding: 'utf8', env: process.env });
  return (JSON.parse(out.trim().split('\n').pop()!) as { perSec: number }).perSec;
}

/** kafkajs alone: 1-record sends at a fixed rate, p50 / p99 from each send's scheduled start to its acknowledgement. */
export function kafkajsLatency(topic: string, size: number, seconds: number, perSec: number): { perSec: number; p50: number; p99: number } {
  const out = execFileSync(
    process.execPath,
    [resolve(__dirname, 'kafkajs-ceiling.js'), 'latency', topic, String(size), String(seconds), String(perSec)],
    {
      encoding: 'utf8',
      env: process.env,
    },
  );
  return JSON.parse(out.trim().split('\n').pop()!) as { perSec: number; p50: number; p99: number };
}

/**
 * The memory floor of a service's libraries: RSS of a node that only loads them and idles (after a
 * full GC), beside the service's idle RSS. Run from `services/<service>` so it resolves what the
 * service resolves.
 */
export function libraryFloorMb(service: string, libraries: readonly string[]): number {
  const script = `for (const m of ${JSON.stringify(libraries)}) require(m); setTimeout(() => { gc(); process.stdout.write(String(process.memoryUsage().rss / 1048576)); }, 500);`;
  return Number(
    execFileSync(process.execPath, ['--expose-gc', '-e', script], { cwd: resolve(ROOT, 'services', service), encoding: 'utf8' }),
  );
}

/** Every consumer's third-party libraries (the store client of each, the runner's, the management server's). */
export const CONSUMER_LIBRARIES = [
  'kafkajs',
  '@kafkajs/confluent-schema-registry',
  'ioredis',
  'knex',
  'mysql2',
  'fastify',
  'pino',
  'prom-client',
  'zod',
  'avsc',
];

/** The ingest API's third-party libraries, for the memory floor beside its idle RSS. */
export const INGEST_LIBRARIES = [
  'kafkajs',
  '@kafkajs/confluent-schema-registry',
  'ioredis',
  'fastify',
  '@fastify/compress',
  '@fastify/cors',
  '@fastify/rate-limit',
  '@fastify/swagger',
  '@fastify/swagger-ui',
  'pino',
  'prom-client',
  'zod',
  'avsc',
  'isbot',
];
/** The Redis server's pid, for its CPU during the counter's drain (undefined when it does not say). */
export function redisPid(): number | undefined {
  const pid = Number(/process_id:(\d+)/.exec(execFileSync('redis-cli', ['info', 'server'], { encoding: 'utf8' }))?.[1]);
  return Number.isFinite(pid) ? pid : undefined;
}
