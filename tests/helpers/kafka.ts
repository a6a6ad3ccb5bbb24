import { Kafka, logLevel, type IHeaders } from 'kafkajs';
import { env, eventually, uniqueName } from './env';

export const kafka = new Kafka({ clientId: 'tally-tests', brokers: [...env.KAFKA_BROKERS], logLevel: logLevel.NOTHING });

export async function createTopic(topic: string, partitions = 1): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }], waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
}

export async function deleteTopics(topics: string[], client: Kafka = kafka): Promise<void> {
  const admin = client.admin();
  await admin.connect();
  try {
    const have = new Set(await admin.listTopics());
    const existing = topics.filter((t) => have.has(t));
    if (existing.length) await admin.deleteTopics({ topics: existing });
  } finally {
    await admin.disconnect();
  }
}

export async function produceRaw(topic: string, messages: { key?: string | null; value: Buffer; partition?: number }[]): Promise<void> {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    await producer.send({
      topic,
      acks: -1,
      messages: messages.map((m) => ({ key: m.key ?? null, value: m.value, partition: m.partition ?? 0 })),
    });
  } finally {
    await producer.disconnect();
  }
}

/** Committed offset of a group on a partition (-1 when nothing committed). */
export async function committedOffset(groupId: string, topic: string, partition = 0): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const res = await admin.fetchOffsets({ groupId, topics: [topic] });
    return Number(res[0]!.partitions.find((p) => p.partition === partition)!.offset);
  } finally {
    await admin.disconnect();
  }
}

export interface ReadRecord {
  key: string | null;
  value: Buffer | null;
  headers: Record<string, string>;
  offset: string;
}

/** Reads `count` records of a topic from the beginning with a throwaway group. */
export async function readTopic(topic: string, count: number, timeoutMs = 20_000): Promise<ReadRecord[]> {
  const consumer = kafka.consumer({ groupId: uniqueName('reader') });
  const out: ReadRecord[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        out.push({
          key: message.key?.toString() ?? null,
          value: message.value,
          headers: headersToStrings(message.headers),
          offset: message.offset,
        });
      },
    });
    await eventually(async () => (out.length >= count ? true : undefined), timeoutMs, `${count} records on ${topic}`);
    return out;
  } finally {
    await consumer.disconnect();
  }
}

function headersToStrings(h: IHeaders | undefined): Record<string, string> {
  const r: Record<string, string> = {};
  for (const [k, v] of Object.entries(h ?? {})) if (v !== undefined && !Array.isArray(v)) r[k] = v.toString();
  return r;
}
