/** The consumers benchmark's load: N events of the counted types on a long tail of movies, written straight to Kafka. */
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { eventDefinition, sampleEvents, type EventType, type TopicNames } from '@tally/events';
import { RegistryCodec } from '@tally/kafka';

const env = process.env;

export const MIX: [EventType, number][] = [
  ['movie.viewed', 0.6],
  ['movie.downloaded', 0.2],
  ['movie.liked', 0.15],
  ['movie.unliked', 0.05],
];

function pick(i: number): EventType {
  let x = (i * 0.6180339887) % 1;
  for (const [t, w] of MIX) if ((x -= w) < 0) return t;
  return 'movie.viewed';
}

export async function produce(names: TopicNames, n: number): Promise<Map<EventType, number>> {
  const codec = new RegistryCodec(env.SCHEMA_REGISTRY_URL ?? 'http://127.0.0.1:8081/apis/ccompat/v7');
  const ids = new Map<EventType, number>();
  for (const [t] of MIX) ids.set(t, await codec.register(names.subjectFor(t), eventDefinition(t).avroSchema));
  const producer = new Kafka({ brokers: ['127.0.0.1:9092'], logLevel: logLevel.NOTHING }).producer({ idempotent: true });
  await producer.connect();
  const counts = new Map<EventType, number>();
  const now = Date.now();
  for (let start = 0; start < n; start += 5_000) {
    const byTopic = new Map<string, { key: string; value: Buffer }[]>();
    for (let i = start; i < Math.min(n, start + 5_000); i++) {
      const type = pick(i);
      // Long tail: a few movies get most of the traffic, as on the real site.
      const javId = 1 + Math.floor(1000 * Math.pow((i % 9973) / 9973, 3));
      const value = {
        ...(sampleEvents()[type] as unknown as Record<string, unknown>),
        event_id: randomUUID(),
        jav_id: javId,
        user_id: i % 5 === 0 ? null : 1 + (i % 500),
        occurred_at: now,
        sent_at: now,
        received_at: now,
      };
      const list = byTopic.get(names.topicFor(type)) ?? [];
      list.push({ key: String(javId), value: codec.encodeValidated(ids.get(type)!, eventDefinition(type).avroType, value) });
      byTopic.set(names.topicFor(type), list);
      counts.set(type, (counts.get(type) ?? 0) + 1);
    }
    await producer.sendBatch({ acks: -1, topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) });
  }
  await producer.disconnect();
  return counts;
}
