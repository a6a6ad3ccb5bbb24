/**
 * The named Kafka client's own ceiling on this machine, run as a separate process like a service:
 * what kafkajs alone does with no HTTP, validation or sink. The ingest and consumer benchmarks print
 * it beside their figures, so a reader can tell Tally's overhead from the library's limit.
 *
 *   node bench/dist/kafkajs-ceiling.js produce <topic> <recordSize> <seconds>
 *   node bench/dist/kafkajs-ceiling.js consume <topic,topic,…> <expected> [decode]
 *   node bench/dist/kafkajs-ceiling.js latency <topic> <recordSize> <seconds> <perSec>
 * Prints one JSON line: {"perSec": …} (latency: also p50 and p99 in ms).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { RegistryCodec } from '@tally/kafka';

const env = process.env;
const kafka = new Kafka({
  clientId: 'bench-ceiling',
  brokers: (env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(','),
  logLevel: logLevel.NOTHING,
});

/** 100-record sends with 16 in flight: the shape of the ingest API's load (16 connections × 100 events). */
async function produce(topic: string, size: number, seconds: number): Promise<number> {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 5 });
  await producer.connect();
  const value = randomBytes(size);
  let sent = 0;
  const end = Date.now() + seconds * 1000;
  const t0 = Date.now();
  await Promise.all(
    Array.from({ length: Number(env.CEILING_INFLIGHT ?? 16) }, async () => {
      while (Date.now() < end) {
        await producer.send({
          topic,
          acks: -1,
          messages: Array.from({ length: Number(env.CEILING_BATCH ?? 100) }, (_, i) => ({ key: String(i), value })),
        });
        sent += Number(env.CEILING_BATCH ?? 100);
      }
    }),
  );
  const rate = sent / ((Date.now() - t0) / 1000);
  await producer.disconnect();
  return rate;
}

/**
 * 1-record sends started at a fixed rate, each timed from its scheduled start to its acknowledgement
 * (acks=all), as the ingest API answers a 1-event request: the latency floor of "answered once Kafka
 * has it" with this client and broker, beside the ingest API's p99 at the same rate.
 */
async function latency(
  topic: string,
  size: number,
  seconds: number,
  perSec: number,
): Promise<{ perSec: number; p50: number; p99: number }> {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 5 });
  await producer.connect();
  const value = randomBytes(size);
  const times: number[] = [];
  const sends: Promise<void>[] = [];
  const t0 = performance.now();
  for (let i = 0; i < seconds * perSec; i++) {
    const at = t0 + (i * 1000) / perSec;
    const wait = at - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    sends.push(
      producer.send({ topic, acks: -1, messages: [{ key: String(i), value }] }).then(() => {
        times.push(performance.now() - at);
      }),
    );
  }
  await Promise.all(sends);
  const rate = times.length / ((performance.now() - t0) / 1000);
  await producer.disconnect();
  times.sort((x, y) => x - y);
  const q = (f: number) => Math.round(times[Math.min(times.length - 1, Math.floor(f * times.length))]!);
  return { perSec: rate, p50: q(0.5), p99: q(0.99) };
}

async function consume(topics: string[], expected: number, decode: boolean): Promise<number> {
  const codec = decode ? new RegistryCodec(env.SCHEMA_REGISTRY_URL ?? 'http://127.0.0.1:8081/apis/ccompat/v7') : undefined;
  const consumer = kafka.consumer({ groupId: `bench-ceiling-${randomUUID()}`, maxWaitTimeInMs: 250 });
  await consumer.connect();
  for (const topic of topics) await consumer.subscribe({ topic, fromBeginning: true });
  let seen = 0;
  let t0 = 0;
  const done = new Promise<number>((resolve) => {
    void consumer.run({
      partitionsConsumedConcurrently: 4,
      eachBatch: async ({ batch }) => {
        if (t0 === 0) t0 = Date.now();
        if (codec) for (const m of batch.messages) await codec.decode(m.value!);
        seen += batch.messages.length;
        if (seen >= expected) resolve(seen / ((Date.now() - t0) / 1000));
      },
    });
  });
  const rate = await done;
  await consumer.disconnect();
  return rate;
}

async function main(): Promise<void> {
  const [mode, a, b, c, d] = process.argv.slice(2);
  if (mode === 'latency') {
    process.stdout.write(JSON.stringify(await latency(a!, Number(b), Number(c), Number(d))) + '\n');
    return;
  }
  const perSec = mode === 'produce' ? await produce(a!, Number(b), Number(c)) : await consume(a!.split(','), Number(b), c === 'decode');
  process.stdout.write(JSON.stringify({ perSec }) + '\n');
}

main().catch((err) => {
  process.stderr.write(`kafkajs-ceiling: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
