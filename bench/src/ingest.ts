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
import { eventDefinition, sampleEvents } from '@tally/events';
import { clientEvent, peakRssMb } from './probe';

const ROOT = resolve(__dirname, '../..');

const env = process.env;
const SECONDS = Number(env.BENCH_SECONDS ?? 10);
const PORT = 18_090;
const URL = `http://127.0.0.1:${PORT}/v1/events`;
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

/** The named client's ceiling (bench/src/kafkajs-ceiling.ts) in its own process, as a service would run. */
function kafkajsCeiling(...args: string[]): number {
  const out = execFileSync(process.execPath, [resolve(__dirname, 'kafkajs-ceiling.js'), ...args], { encoding: 'utf8', env });
  return (JSON.parse(out.trim().split('\n').pop()!) as { perSec: number }).perSec;
}

async function load(opts: Omit<autocannon.Options, 'url'>): Promise<autocannon.Result> {
  return autocannon({ ...opts, url: URL, method: 'POST', headers, duration: SECONDS });
}

async function main(): Promise<void> {
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
  const kafkajs = kafkajsCeiling('produce', 'tally.bench.producer-perf', String(size), String(SECONDS));

  const api = spawn(process.execPath, [resolve(ROOT, 'services/ingest-api/dist/main.js')], {
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
    process.stdout.write('ingest: 1-event requests…\n');
    const single = await load({ connections: 64, body: JSON.stringify(clientEvent()) });
    process.stdout.write('ingest: 100-event requests…\n');
    const batch = await load({ connections: 16, body: JSON.stringify({ events: Array.from({ length: 100 }, clientEvent) }) });
    process.stdout.write('ingest: latency at a fixed 1,000 req/s…\n');
    const fixed = await load({ connections: 32, overallRate: 1000, body: JSON.stringify(clientEvent()) });
    const rss = peakRssMb(api.pid!);
    report({ size, kafka, kafkajs, single, batch, fixed, rss });
  } finally {
    api.kill('SIGTERM');
  }
}

function report(r: {
  size: number;
  kafka: { recordsPerSec: number; line: string };
  kafkajs: number;
  single: autocannon.Result;
  batch: autocannon.Result;
  fixed: autocannon.Result;
  rss: number;
}): void {
  const ok = (x: autocannon.Result) => x['2xx'];
  const single = ok(r.single) / SECONDS;
  const batch = (ok(r.batch) * 100) / SECONDS;
  const rows = [
    ['Kafka ProducerPerformance (Java, acks=all)', `${Math.round(r.kafka.recordsPerSec)} rec/s`, '1.00 (limit)', ''],
    [
      'kafkajs alone (Node, 100-record sends)',
      `${Math.round(r.kafkajs)} rec/s`,
      (r.kafkajs / r.kafka.recordsPerSec).toFixed(2),
      "the named client's ceiling, no HTTP",
    ],
    [
      'ingest, 1 event per request',
      `${Math.round(single)} ev/s`,
      (single / r.kafka.recordsPerSec).toFixed(2),
      `non-2xx ${r.single.non2xx}`,
    ],
    [
      'ingest, 100 events per request',
      `${Math.round(batch)} ev/s`,
      (batch / r.kafka.recordsPerSec).toFixed(2),
      `target ≥ 0.60; ${(batch / r.kafkajs).toFixed(2)} of kafkajs alone; non-2xx ${r.batch.non2xx}`,
    ],
    [
      'latency at 1,000 req/s, p50 / p99',
      `${r.fixed.latency.p50} / ${r.fixed.latency.p99} ms`,
      (r.fixed.latency.p99 / 10).toFixed(2),
      'ratio to the 10 ms p99 target',
    ],
    ['ingest-api peak RSS', `${r.rss.toFixed(0)} MB`, (r.rss / 150).toFixed(2), 'ratio to the 150 MB target'],
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
        single: { eventsPerSec: single, non2xx: r.single.non2xx, latency: r.single.latency },
        batch100: { eventsPerSec: batch, ratioToKafka: batch / r.kafka.recordsPerSec, non2xx: r.batch.non2xx },
        fixed1000: { requests: r.fixed.requests, latency: r.fixed.latency, non2xx: r.fixed.non2xx },
        peakRssMb: r.rss,
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
