/**
 * Ingest benchmark against the real stack: events/s through the ingest API (1-event and 100-event
 * requests, acks=all) beside Kafka's own Java producer benchmark in the same run and at the same
 * record size (the physical limit of this broker on this machine), latency at a fixed 1,000 req/s,
 * and the API's peak RSS. Prints a table and writes bench/results/ingest-<time>.json.
 *
 * Run through `npm run bench` (starts the stack). Env: BENCH_SECONDS (default 10), KAFKA_LIBS
 * (the broker's jar folder, set by bench/run.sh).
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import autocannon from 'autocannon';
import Fastify from 'fastify';
import { eventDefinition, sampleEvents } from '@tally/events';
import { clientCeiling, clientEvent, cpuMs, peakRssMb, rssNowMb, INGEST_LIBRARIES, kafkajsLatency, libraryFloorMb } from './probe';

const ROOT = resolve(__dirname, '../..');
const env = process.env;
const SECONDS = Number(env.BENCH_SECONDS ?? 10);
const PORT = 18_090;
const URL = `http://127.0.0.1:${PORT}/v1/events`;
const BARE_PORT = 18_091;
const BARE_URL = `http://127.0.0.1:${BARE_PORT}/v1/events`;
const TARGET = { batchToKafkajs: 0.7, singleToBare: 0.5, p99ToBare: 2 }; // issue #19's
const headers = { 'content-type': 'application/json', authorization: 'Bearer bench-key' };

/** Size of one movie.viewed record as produced: Confluent header (5 bytes) + Avro body. */
function recordSize(): number {
  const p = { ...sampleEvents()['movie.viewed'], event_id: randomUUID(), user_agent: 'Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0' };
  return 5 + eventDefinition('movie.viewed').avroType.toBuffer(p).length;
}

function kafkaProducerPerf(size: number): { recordsPerSec: number; line: string } {
  const libs = env.KAFKA_LIBS;
  if (!libs) throw new Error('KAFKA_LIBS is not set: run through `npm run bench` (bench/run.sh)');
  const records = 400_000;
  const out = execFileSync(
    'java',
    [
      '-Xmx512m',
      '-cp',
      `${libs}/*`,
      'org.apache.kafka.tools.ProducerPerformance',
      '--topic',
      'tally.bench.producer-perf',
      '--num-records',
      String(records),
      '--record-size',
      String(size),
      '--throughput',
      '-1',
      '--producer-props',
      'bootstrap.servers=127.0.0.1:9092',
      'acks=all',
      'linger.ms=5',
    ],
    { encoding: 'utf8', maxBuffer: 64 << 20 },
  );
  const line =
    out
      .trim()
      .split('\n')
      .filter((l) => l.includes('records sent'))
      .pop() ?? '';
  const m = /([\d.]+) records\/sec/.exec(line);
  if (!m) throw new Error(`could not read ProducerPerformance output:\n${out.slice(-2000)}`);
  return { recordsPerSec: Number(m[1]), line };
}

async function load(opts: Omit<autocannon.Options, 'url'>, url = URL): Promise<autocannon.Result> {
  return autocannon({ ...opts, url, method: 'POST', headers, duration: SECONDS });
}

/**
 * The comparison for 1-event requests (issue #19): a bare Fastify route that parses the same JSON
 * body and answers 202, with no validation, no Kafka and no Redis: what HTTP + JSON costs in Node
 * on this machine with this load generator. Run in its own process, as ingest-api is.
 */
async function bareServer(): Promise<void> {
  const app = Fastify();
  app.post<{ Body: Record<string, unknown> }>('/v1/events', async (req, reply) => {
    const events = Array.isArray(req.body.events) ? req.body.events.length : 1;
    return reply.code(202).send({ accepted: events });
  });
  await app.listen({ port: BARE_PORT, host: '127.0.0.1' });
}

type Measured = autocannon.Result & { cpuUsPerRequest: number };

/** A load run, with the server's CPU time per answered request beside the rate. */
async function measured(pid: number, opts: Omit<autocannon.Options, 'url'>, url = URL): Promise<Measured> {
  const before = cpuMs(pid);
  const result = await load(opts, url);
  return { ...result, cpuUsPerRequest: ((cpuMs(pid) - before) * 1000) / Math.max(1, result['2xx']) };
}

async function main(): Promise<void> {
  if (process.argv[2] === 'bare') return bareServer();
  execFileSync(process.execPath, [resolve(ROOT, 'packages/cli/dist/bin.js'), 'setup'], { stdio: 'ignore' });
  execFileSync(process.execPath, [resolve(ROOT, 'packages/cli/dist/bin.js'), 'topics', 'create'], { stdio: 'ignore' });
  const size = recordSize();
  // The Java benchmark's topic, shaped like an event topic (6 partitions).
  execFileSync(
    'java',
    [
      '-cp',
      `${env.KAFKA_LIBS}/*`,
      'org.apache.kafka.tools.TopicCommand',
      '--bootstrap-server',
      '127.0.0.1:9092',
      '--create',
      '--if-not-exists',
      '--topic',
      'tally.bench.producer-perf',
      '--partitions',
      '6',
      '--replication-factor',
      '1',
    ],
    { stdio: 'ignore' },
  );
  process.stdout.write(`record size ${size} B; Kafka ProducerPerformance (acks=all)…\n`);
  const kafka = kafkaProducerPerf(size);
  process.stdout.write('kafkajs alone (Node, same record size, acks=all)…\n');
  const kafkajs = clientCeiling('kafkajs', 'produce', 'tally.bench.producer-perf', String(size), String(SECONDS));
  process.stdout.write('@platformatic/kafka alone (reference, same shape)…\n');
  const platformatic = clientCeiling('platformatic', 'produce', 'tally.bench.producer-perf', String(size), String(SECONDS));

  // BENCH_NODE_ARGS (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`) goes to ingest-api's node, as in probe.ts.
  const nodeArgs = (env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const bare = spawn(process.execPath, [__filename, 'bare'], { stdio: ['ignore', 'inherit', 'inherit'] });
  const api = spawn(process.execPath, [...nodeArgs, resolve(ROOT, 'services/ingest-api/dist/main.js')], {
    env: {
      ...env,
      PORT: String(PORT),
      LOG_LEVEL: 'warn',
      BROWSER_KEYS: 'bench-key',
      SERVER_KEYS: 'bench-server-key',
      RATE_LIMIT_MAX: '100000000',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  try {
    for (let i = 0; i < 300; i++) {
      if ((await fetch(`http://127.0.0.1:${PORT}/readyz`).catch(() => undefined))?.ok) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const one = JSON.stringify(clientEvent());
    // Warm-up: V8 optimises both servers' paths and ingest opens its Kafka connections before measuring.
    await load({ connections: 16, body: one, duration: 2 });
    await load({ connections: 16, body: one, duration: 2 }, BARE_URL);
    process.stdout.write('ingest: 1-event requests…\n');
    const single = await measured(api.pid!, { connections: 64, body: one });
    process.stdout.write('bare Fastify route, the same 1-event requests…\n');
    const bareSingle = await measured(bare.pid!, { connections: 64, body: one }, BARE_URL);
    process.stdout.write('ingest: 100-event requests…\n');
    const batch = await measured(api.pid!, { connections: 16, body: JSON.stringify({ events: Array.from({ length: 100 }, clientEvent) }) });
    process.stdout.write('ingest: latency at a fixed 1,000 req/s…\n');
    const fixed = await load({ connections: 32, overallRate: 1000, body: one });
    process.stdout.write('bare route: latency at a fixed 1,000 req/s…\n');
    const bareFixed = await load({ connections: 32, overallRate: 1000, body: one }, BARE_URL);
    process.stdout.write('kafkajs alone: 1-record sends at a fixed 1,000/s…\n');
    const kafkajsFixed = kafkajsLatency('tally.bench.producer-perf', size, SECONDS, 1000);
    const rss = peakRssMb(api.pid!);
    // Idle (target ≤ 100 MB): 5 s after the last run; the API itself has been idle ~25 s by then.
    await new Promise((r) => setTimeout(r, 5_000));
    const idleRss = rssNowMb(api.pid!);
    report({ size, kafka, kafkajs, platformatic, single, bareSingle, batch, fixed, bareFixed, kafkajsFixed, rss, idleRss });
  } finally {
    api.kill('SIGTERM');
    bare.kill('SIGTERM');
  }
}

function report(r: {
  size: number;
  kafka: { recordsPerSec: number; line: string };
  kafkajs: number;
  platformatic: number;
  single: Measured;
  bareSingle: Measured;
  batch: Measured;
  fixed: autocannon.Result;
  bareFixed: autocannon.Result;
  kafkajsFixed: { perSec: number; p50: number; p99: number };
  rss: number;
  idleRss: number;
}): void {
  const ok = (x: autocannon.Result) => x['2xx'];
  const single = ok(r.single) / SECONDS;
  const bareSingle = ok(r.bareSingle) / SECONDS;
  const batch = (ok(r.batch) * 100) / SECONDS;
  const p99Ratio = r.fixed.latency.p99 / Math.max(1, r.bareFixed.latency.p99);
  const rows = [
    ['Kafka ProducerPerformance (Java, acks=all)', `${Math.round(r.kafka.recordsPerSec)} rec/s`, '1.00 (limit)', ''],
    [
      'kafkajs alone (Node, 100-record sends)',
      `${Math.round(r.kafkajs)} rec/s`,
      (r.kafkajs / r.kafka.recordsPerSec).toFixed(2),
      "the named client's ceiling, no HTTP",
    ],
    [
      '@platformatic/kafka alone (reference)',
      `${Math.round(r.platformatic)} rec/s`,
      (r.platformatic / r.kafka.recordsPerSec).toFixed(2),
      `${(r.platformatic / r.kafkajs).toFixed(2)} × kafkajs; pure-JS client, one send at a time (see platformatic-ceiling.mjs); data, not used by Tally`,
    ],
    [
      'ingest, 100 events per request',
      `${Math.round(batch)} ev/s`,
      (batch / r.kafka.recordsPerSec).toFixed(2),
      `${(batch / r.kafkajs).toFixed(2)} of kafkajs alone (target ≥ ${TARGET.batchToKafkajs}); ${r.batch.cpuUsPerRequest.toFixed(0)} µs CPU per request; non-2xx ${r.batch.non2xx}`,
    ],
    [
      'bare Fastify route, 1-event body parsed',
      `${Math.round(bareSingle)} req/s`,
      '1.00 (limit)',
      `${r.bareSingle.cpuUsPerRequest.toFixed(0)} µs CPU per request`,
    ],
    [
      'ingest, 1 event per request',
      `${Math.round(single)} ev/s`,
      (single / bareSingle).toFixed(2),
      `of the bare route (target ≥ ${TARGET.singleToBare}); ${r.single.cpuUsPerRequest.toFixed(0)} µs CPU per request; non-2xx ${r.single.non2xx}`,
    ],
    [
      'bare route at 1,000 req/s, p50 / p99',
      `${r.bareFixed.latency.p50} / ${r.bareFixed.latency.p99} ms`,
      '1.00 (limit)',
      'same rate, same load generator',
    ],
    [
      'ingest at 1,000 req/s, p50 / p99',
      `${r.fixed.latency.p50} / ${r.fixed.latency.p99} ms`,
      p99Ratio.toFixed(2),
      `p99 to the bare route's (target ≤ ${TARGET.p99ToBare}); non-2xx ${r.fixed.non2xx}`,
    ],
    [
      'kafkajs alone, 1-record sends at 1,000/s, p50 / p99',
      `${r.kafkajsFixed.p50} / ${r.kafkajsFixed.p99} ms`,
      (r.kafkajsFixed.p99 / Math.max(1, r.bareFixed.latency.p99)).toFixed(2),
      `p99 to the bare route's: the floor of answering once Kafka has it; ingest p99 is ${(r.fixed.latency.p99 / Math.max(1, r.kafkajsFixed.p99)).toFixed(2)} × this`,
    ],
    ['ingest-api peak RSS', `${r.rss.toFixed(0)} MB`, (r.rss / 150).toFixed(2), 'ratio to the 150 MB target'],
    [
      'ingest-api idle RSS',
      `${r.idleRss.toFixed(0)} MB`,
      (r.idleRss / 100).toFixed(2),
      `ratio to the 100 MB target, its own load ended ~25 s before (the bare route and kafkajs ran since); a node with only its libraries loaded: ${libraryFloorMb('ingest-api', INGEST_LIBRARIES).toFixed(0)} MB`,
    ],
  ];
  process.stdout.write(`\n${'measure'.padEnd(44)} ${'value'.padStart(16)} ${'ratio'.padStart(13)}  note\n`);
  for (const [a, b, c, d] of rows) process.stdout.write(`${a!.padEnd(44)} ${b!.padStart(16)} ${c!.padStart(13)}  ${d}\n`);
  mkdirSync(resolve(__dirname, '../results'), { recursive: true });
  const file = resolve(__dirname, `../results/ingest-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(
    file,
    JSON.stringify(
      {
        at: new Date().toISOString(),
        seconds: SECONDS,
        recordSize: r.size,
        kafkaProducerPerf: r.kafka,
        kafkajsAloneRecordsPerSec: r.kafkajs,
        platformaticAloneRecordsPerSec: r.platformatic,
        single: {
          eventsPerSec: single,
          non2xx: r.single.non2xx,
          latency: r.single.latency,
          ratioToBare: single / bareSingle,
          cpuUsPerRequest: r.single.cpuUsPerRequest,
        },
        batch100: {
          eventsPerSec: batch,
          ratioToKafka: batch / r.kafka.recordsPerSec,
          non2xx: r.batch.non2xx,
          ratioToKafkajs: batch / r.kafkajs,
          cpuUsPerRequest: r.batch.cpuUsPerRequest,
        },
        fixed1000: { requests: r.fixed.requests, latency: r.fixed.latency, non2xx: r.fixed.non2xx, p99RatioToBare: p99Ratio },
        bareSingle: { requestsPerSec: bareSingle, latency: r.bareSingle.latency, cpuUsPerRequest: r.bareSingle.cpuUsPerRequest },
        bareFixed1000: { requests: r.bareFixed.requests, latency: r.bareFixed.latency },
        kafkajsFixed1000: r.kafkajsFixed,
        targets: TARGET,
        peakRssMb: r.rss,
        idleRssMb: r.idleRss,
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
