/**
 * Consumer benchmarks against the real stack, each beside the physical limit measured in the same
 * run: counter events/s vs redis-benchmark pipelined INCR; event-logger rows/s vs a plain multi-row
 * INSERT; history upserts/s vs a plain multi-row upsert; freshness p99 (POST → effect) at half of
 * the ingest API's measured maximum; peak RSS per service. Isolated: own topics (TOPIC_PREFIX), own
 * MySQL database, own Redis database index. Env: BENCH_EVENTS (default 100000), BENCH_SECONDS.
 * BENCH_ONLY=counter|event-logger|history drains only that service and prints its rate and CPU per
 * event, without the limits or the freshness run: a quick loop while profiling one consumer.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import autocannon from 'autocannon';
import { createTempDatabase, migrateLatest, seedDemo } from '@tally/db';
import { topicNames } from '@tally/events';
import { MIX, produce } from './consumer-load';
import {
  buckets,
  CONSUMER_LIBRARIES,
  libraryFloorMb,
  clientCeiling,
  clientEvent,
  cpuMs,
  metric,
  p99,
  peakRssMb,
  quiet,
  redisPid,
  rssNowMb,
  startService,
  until,
} from './probe';
import { plainInsertLimit, plainUpsertLimit, redisIncrLimit } from './limits';

const ROOT = resolve(__dirname, '../..');

const env = process.env;
const N = Number(env.BENCH_EVENTS ?? 100_000);
// Past the services' IDLE_GC_AFTER (3 s) and the young-generation step 5.5 s after it (idle-memory.ts).
const IDLE_MS = 10_000;
const SECONDS = Number(env.BENCH_SECONDS ?? 10);
const MYSQL_URL = env.MYSQL_URL ?? 'mysql://tally:tally@127.0.0.1:3306/tally';
const REDIS_URL = `${env.REDIS_URL ?? 'redis://127.0.0.1:6379'}/14`;
/**
 * Consumes everything already in its topics; events/s and peak RSS. Timed like the kafkajs ceiling
 * (bench/src/kafkajs-ceiling.ts): from the first processed chunk to the last, so the group join both
 * sides pay is not counted as the service's work; the join is reported beside it (startMs).
 */
async function drain(
  name: string,
  port: number,
  expected: number,
  common: Record<string, string>,
  /** Another process whose CPU per event to report over the same window (the counter's Redis). */
  alsoPid?: number,
): Promise<{ perSec: number; rssMb: number; startMs: number; idleRssMb: number; cpuUsPerEvent: number; alsoCpuUsPerEvent: number }> {
  const p = startService(name, port, { ...common, GROUP_ID: `bench-${name}-${randomUUID()}` });
  const processed = () => metric(port, 'tally_messages_processed_total').catch(() => 0);
  try {
    const started = Date.now();
    let first = 0;
    // Scraping /metrics costs the service CPU (≈3 ms a scrape under load): often only until the first chunk.
    await until(async () => (first = await processed()) > 0, 600_000, 20);
    const t0 = Date.now();
    const cpu0 = cpuMs(p.pid!);
    const also0 = alsoPid === undefined ? 0 : cpuMs(alsoPid);
    await until(async () => (await processed()) >= expected, 600_000, 100);
    const perSec = (expected - first) / Math.max(0.001, (Date.now() - t0) / 1000);
    // The service's own CPU per event: what a shared machine's load does not blur (probe.ts cpuMs).
    const perEvent = (ms: number) => (ms * 1000) / Math.max(1, expected - first);
    const cpuUsPerEvent = perEvent(cpuMs(p.pid!) - cpu0);
    const alsoCpuUsPerEvent = alsoPid === undefined ? NaN : perEvent(cpuMs(alsoPid) - also0);
    const rssMb = peakRssMb(p.pid!);
    // Idle: resident memory once the backlog is done and nothing arrives for IDLE_MS (target ≤ 100 MB).
    await new Promise((r) => setTimeout(r, IDLE_MS));
    return { perSec, rssMb, startMs: t0 - started, idleRssMb: rssNowMb(p.pid!), cpuUsPerEvent, alsoCpuUsPerEvent };
  } finally {
    p.kill('SIGTERM');
    await new Promise((r) => p.once('exit', r));
  }
}

async function main(): Promise<void> {
  const names = topicNames(`bench_${randomUUID().slice(0, 8)}.`);
  execFileSync(process.execPath, [resolve(ROOT, 'packages/cli/dist/bin.js'), 'setup'], {
    env: { ...env, TOPIC_PREFIX: names.prefix },
    stdio: 'ignore',
  });
  const temp = await createTempDatabase(MYSQL_URL, 'tally_bench');
  try {
    await migrateLatest(temp.db);
    await seedDemo(temp.db, { movies: 1000, actors: 100, tags: 20, users: 500, seed: 1 });
    execFileSync('redis-cli', ['-n', '14', 'flushdb']);
    process.stdout.write(`producing ${N} events…\n`);
    const counts = await produce(names, N);
    const common = { TOPIC_PREFIX: names.prefix, MYSQL_URL: temp.url, REDIS_URL };
    const historyEvents = (counts.get('movie.viewed') ?? 0) + (counts.get('movie.downloaded') ?? 0);
    if (env.BENCH_ONLY) {
      const only = env.BENCH_ONLY;
      const port = { counter: 19_802, 'event-logger': 19_801, history: 19_803 }[only];
      if (port === undefined) throw new Error(`BENCH_ONLY must be counter, event-logger or history (got '${only}')`);
      const r = await drain(only, port, only === 'history' ? historyEvents : N, common, only === 'counter' ? redisPid() : undefined);
      const redis = only === 'counter' ? ` + ${r.alsoCpuUsPerEvent.toFixed(1)} µs Redis` : '';
      process.stdout.write(
        `${only}: ${Math.round(r.perSec)} ev/s, ${r.cpuUsPerEvent.toFixed(1)} µs CPU/event${redis}, RSS peak ${r.rssMb.toFixed(0)} / idle ${r.idleRssMb.toFixed(0)} MB\n`,
      );
      return;
    }
    process.stdout.write('limits: redis-benchmark, plain INSERT, plain upsert…\n');
    const redisLimit = redisIncrLimit();
    const counterTopics = MIX.map(([t]) => names.topicFor(t)).join(',');
    const kafkajsBare = clientCeiling('kafkajs', 'consume', counterTopics, String(N));
    const kafkajsDecode = clientCeiling('kafkajs', 'consume', counterTopics, String(N), 'decode');
    const platformatic = clientCeiling('platformatic', 'consume', counterTopics, String(N));
    process.stdout.write(`kafkajs alone: ${Math.round(kafkajsBare)} msg/s, with Avro decode ${Math.round(kafkajsDecode)} msg/s\n`);
    const insertLimit = await plainInsertLimit(temp, 100_000);
    const upsertLimit = await plainUpsertLimit(temp, 100_000);
    process.stdout.write('counter, event-logger, history draining the topics…\n');
    process.stdout.write(
      `limits: INCR ${Math.round(redisLimit)} ops/s, INSERT ${Math.round(insertLimit)} rows/s, upsert ${Math.round(upsertLimit)} rows/s\n`,
    );
    // Redis's own CPU during the counter's drain: the exactly-once apply script's share of each event.
    const counter = await drain('counter', 19_802, N, common, redisPid());
    process.stdout.write(`counter ${Math.round(counter.perSec)} ev/s\n`);
    const logger = await drain('event-logger', 19_801, N, common);
    process.stdout.write(`event-logger ${Math.round(logger.perSec)} rows/s\n`);
    const history = await drain('history', 19_803, historyEvents, common);
    const fresh = await freshness(common);
    const rows: [string, string, string, string][] = [
      ['redis-benchmark INCR, pipelined 16', `${Math.round(redisLimit)} ops/s`, '1.00 (limit)', ''],
      [
        'kafkajs consumer alone (no-op eachBatch)',
        `${Math.round(kafkajsBare)} msg/s`,
        (kafkajsBare / redisLimit).toFixed(2),
        "the named client's ceiling",
      ],
      [
        '@platformatic/kafka consumer alone (reference)',
        `${Math.round(platformatic)} msg/s`,
        (platformatic / redisLimit).toFixed(2),
        `${(platformatic / kafkajsBare).toFixed(2)} × kafkajs; stream of messages, not used by Tally`,
      ],
      [
        'kafkajs consumer + Avro decode',
        `${Math.round(kafkajsDecode)} msg/s`,
        (kafkajsDecode / redisLimit).toFixed(2),
        'ceiling for any counter built on it',
      ],
      [
        'counter',
        `${Math.round(counter.perSec)} ev/s`,
        (counter.perSec / kafkajsDecode).toFixed(2),
        `of kafkajs + decode, target ≥ 0.60; ${(counter.perSec / redisLimit).toFixed(2)} of INCR; join ${counter.startMs} ms; CPU/event ${counter.cpuUsPerEvent.toFixed(1)} µs counter + ${counter.alsoCpuUsPerEvent.toFixed(1)} µs Redis (single-threaded: at most ${Math.round(1e6 / counter.alsoCpuUsPerEvent)} ev/s, ${(1e6 / counter.alsoCpuUsPerEvent / kafkajsDecode).toFixed(2)} of kafkajs + decode)`,
      ],
      ['plain multi-row INSERT (1,000 rows)', `${Math.round(insertLimit)} rows/s`, '1.00 (limit)', ''],
      [
        'event-logger',
        `${Math.round(logger.perSec)} rows/s`,
        (logger.perSec / insertLimit).toFixed(2),
        `target ≥ 0.85; join ${logger.startMs} ms; ${logger.cpuUsPerEvent.toFixed(1)} µs CPU/event`,
      ],
      ['plain multi-row upsert (1,000 rows)', `${Math.round(upsertLimit)} rows/s`, '1.00 (limit)', ''],
      [
        'history',
        `${Math.round(history.perSec)} ev/s`,
        (history.perSec / upsertLimit).toFixed(2),
        `target ≥ 0.85; join ${history.startMs} ms; ${history.cpuUsPerEvent.toFixed(1)} µs CPU/event`,
      ],
      [
        'freshness p99 POST → Redis counter',
        `≤ ${fresh.counter} s`,
        (fresh.counter / 1).toFixed(2),
        `at ${fresh.rate} req/s; target < 1 s`,
      ],
      ['freshness p99 POST → MySQL row', `≤ ${fresh.logger} s`, (fresh.logger / 2).toFixed(2), 'target < 2 s'],
      [
        'peak RSS counter / event-logger / history',
        `${counter.rssMb.toFixed(0)} / ${logger.rssMb.toFixed(0)} / ${history.rssMb.toFixed(0)} MB`,
        (Math.max(counter.rssMb, logger.rssMb, history.rssMb) / 150).toFixed(2),
        'target < 150 MB',
      ],
      [
        'idle RSS counter / event-logger / history',
        `${counter.idleRssMb.toFixed(0)} / ${logger.idleRssMb.toFixed(0)} / ${history.idleRssMb.toFixed(0)} MB`,
        (Math.max(counter.idleRssMb, logger.idleRssMb, history.idleRssMb) / 100).toFixed(2),
        `target ≤ 100 MB, ${IDLE_MS / 1000} s after the backlog; a node with only the counter's libraries loaded: ${libraryFloorMb('counter', CONSUMER_LIBRARIES).toFixed(0)} MB`,
      ],
    ];
    process.stdout.write(`\n${'measure'.padEnd(42)} ${'value'.padStart(22)} ${'ratio'.padStart(13)}  note\n`);
    for (const [a, b, c, d] of rows) process.stdout.write(`${a.padEnd(42)} ${b.padStart(22)} ${c.padStart(13)}  ${d}\n`);
    mkdirSync(resolve(__dirname, '../results'), { recursive: true });
    const file = resolve(__dirname, `../results/consumers-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    writeFileSync(
      file,
      JSON.stringify(
        {
          at: new Date().toISOString(),
          events: N,
          redisLimit,
          kafkajsBare,
          kafkajsDecode,
          platformaticBare: platformatic,
          insertLimit,
          upsertLimit,
          counter,
          logger,
          history,
          fresh,
        },
        null,
        2,
      ),
    );
    process.stdout.write(`\nwritten ${file}\n`);
  } finally {
    await temp.drop();
    execFileSync('redis-cli', ['-n', '14', 'flushdb']);
  }
}

/** The ingest API, counter and event-logger together at a fixed request rate; p99 of now − received_at. */
async function freshness(common: Record<string, string>): Promise<{ counter: number; logger: number; rate: number }> {
  const api = spawn(process.execPath, [resolve(ROOT, 'services/ingest-api/dist/main.js')], {
    env: { ...env, ...common, PORT: '18092', LOG_LEVEL: 'warn', BROWSER_KEYS: 'bench', RATE_LIMIT_MAX: '100000000' },
    stdio: 'ignore',
  });
  const counter = startService('counter', 19_812, { ...common, GROUP_ID: `bench-fresh-c-${randomUUID()}` });
  const logger = startService('event-logger', 19_811, { ...common, GROUP_ID: `bench-fresh-l-${randomUUID()}` });
  try {
    for (const port of [19_812, 19_811]) await until(async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).ok, 60_000);
    await until(async () => (await fetch('http://127.0.0.1:18092/readyz')).ok, 60_000);
    // Let both groups get past the backlog of the drain benchmarks (the counter skips it by its own
    // progress, the event-logger re-reads it) before measuring: wait until neither consumes for 3 s.
    await quiet(19_812, 'tally_messages_consumed_total');
    await quiet(19_811, 'tally_messages_consumed_total');
    const before = { c: await buckets(19_812, 'tally_event_freshness_seconds'), l: await buckets(19_811, 'tally_event_freshness_seconds') };
    // Half of the 1-event-request maximum measured by the ingest benchmark (~2,700 req/s here).
    const rate = Number(env.BENCH_FRESHNESS_RATE ?? 1_300);
    await autocannon({
      url: 'http://127.0.0.1:18092/v1/events',
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer bench' },
      body: JSON.stringify(clientEvent()),
      connections: 32,
      overallRate: rate,
      duration: SECONDS,
    });
    await new Promise((r) => setTimeout(r, 3_000));
    return {
      counter: p99(before.c, await buckets(19_812, 'tally_event_freshness_seconds')),
      logger: p99(before.l, await buckets(19_811, 'tally_event_freshness_seconds')),
      rate,
    };
  } finally {
    for (const p of [api, counter, logger]) p.kill('SIGTERM');
  }
}

main().catch((err) => {
  process.stderr.write(`bench: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
