/**
 * Reference line beside kafkajs (issue #19): the pure-JavaScript @platformatic/kafka 1.x doing what
 * bench/src/kafkajs-ceiling.ts does with kafkajs, in the same load shape, so a later decision about
 * the client has data. Not used by Tally. An .mjs file because the package is ES modules only.
 *
 *   node bench/platformatic-ceiling.mjs produce <topic> <recordSize> <seconds>
 *   node bench/platformatic-ceiling.mjs consume <topic,topic,…> <expected>
 * Prints one JSON line: {"perSec": …}.
 */
import { Buffer } from 'node:buffer';
import { randomBytes, randomUUID } from 'node:crypto';
import process from 'node:process';
import { Consumer, MessagesStreamModes, ProduceAcks, Producer } from '@platformatic/kafka';

const env = process.env;
const bootstrapBrokers = (env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');

/**
 * 100-record sends, idempotent, acks=all, as kafkajs-ceiling.ts' produce, but one send at a time:
 * with 2 or more in flight, 1.35.0's idempotent producer fails within seconds with
 * OUT_OF_ORDER_SEQUENCE_NUMBER (seen on 2026-12-07 at 2, 4, 5 and 16 in flight), so its figure is
 * for sequential sends (CEILING_INFLIGHT overrides).
 */
async function produce(topic, size, seconds) {
  const producer = new Producer({ clientId: 'bench-platformatic', bootstrapBrokers, idempotent: true, acks: ProduceAcks.ALL });
  const value = randomBytes(size);
  const batch = Number(env.CEILING_BATCH ?? 100);
  let sent = 0;
  const end = Date.now() + seconds * 1000;
  const t0 = Date.now();
  await Promise.all(
    Array.from({ length: Number(env.CEILING_INFLIGHT ?? 1) }, async () => {
      while (Date.now() < end) {
        await producer.send({ messages: Array.from({ length: batch }, (_, i) => ({ topic, key: Buffer.from(String(i)), value })) });
        sent += batch;
      }
    }),
  );
  const rate = sent / ((Date.now() - t0) / 1000);
  await producer.close();
  return rate;
}

/** From the earliest offset, nothing done per message: kafkajs-ceiling.ts' consume without decode. */
async function consume(topics, expected) {
  const consumer = new Consumer({
    clientId: 'bench-platformatic',
    groupId: `bench-platformatic-${randomUUID()}`,
    bootstrapBrokers,
    maxWaitTime: 250,
  });
  const stream = await consumer.consume({ topics, mode: MessagesStreamModes.EARLIEST, autocommit: false });
  let seen = 0;
  let t0 = 0;
  const rate = await new Promise((resolve, reject) => {
    stream.on('error', reject);
    stream.on('data', () => {
      if (t0 === 0) t0 = Date.now();
      if (++seen === expected) resolve(seen / Math.max(0.001, (Date.now() - t0) / 1000));
    });
  });
  await stream.close();
  await consumer.close(true);
  return rate;
}

const [mode, a, b, c] = process.argv.slice(2);
try {
  const perSec = mode === 'produce' ? await produce(a, Number(b), Number(c)) : await consume(a.split(','), Number(b));
  process.stdout.write(JSON.stringify({ perSec }) + '\n');
  process.exit(0);
} catch (err) {
  process.stderr.write(`platformatic-ceiling: ${err instanceof Error ? err.stack : String(err)}\n`);
  for (const e of err?.errors ?? [])
    process.stderr.write(
      `  ${e?.message} ${(e?.errors ?? []).map((x) => x?.message).join('; ')} ${JSON.stringify(e?.response ?? {}, (_k, v) => (typeof v === 'bigint' ? String(v) : v)).slice(0, 800)}\n`,
    );
  process.exit(1);
}
