import { randomUUID } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { eventDefinitions, sampleEvents, topicNames, type EventType, type TopicNames } from '@tally/events';
import { RegistryCodec } from '@tally/kafka';
import { env, uniqueName } from './env';
import type { Kafka } from 'kafkajs';
import { kafka } from './kafka';

const ROOT = resolve(__dirname, '../..');

/** Topics and subjects of their own for one test file: `t_<random>.movie.viewed`, … */
export function isolatedTopics(extraEnv: Record<string, string> = {}): TopicNames {
  const names = topicNames(`${uniqueName('t')}.`);

  execFileSync(process.execPath, [resolve(ROOT, 'packages/cli/dist/bin.js'), 'setup'], {
    env: { ...process.env, ...extraEnv, TOPIC_PREFIX: names.prefix },
    stdio: ['ignore', 'pipe', 'pipe'],
  }); // piped: a failure's message carries the CLI's stderr
  return names;
}

/** A valid event of `type` with the given fields, a fresh id and current times. */
export function makeEvent(type: EventType, fields: Record<string, unknown>): Record<string, unknown> {
  const now = Date.now();
  return {
    ...(sampleEvents()[type] as unknown as Record<string, unknown>),
    event_id: randomUUID(),
    occurred_at: now - 1000,
    sent_at: now - 500,
    received_at: now,
    ...fields,
  };
}

/** Produces Avro-encoded events as the ingest API would (same subjects, same keys). */
export class EventProducer {
  private readonly codec = new RegistryCodec(env.SCHEMA_REGISTRY_URL);
  private readonly ids = new Map<EventType, number>();
  private readonly producer = kafka.producer({ idempotent: true });
  constructor(private readonly names: TopicNames) {}

  async connect(): Promise<void> {
    await this.producer.connect();
    for (const d of eventDefinitions()) this.ids.set(d.type, await this.codec.register(this.names.subjectFor(d.type), d.avroSchema));
  }

  async send(events: { type: EventType; value: Record<string, unknown>; key?: string }[]): Promise<void> {
    const byTopic = new Map<string, { key: string; value: Buffer }[]>();
    for (const e of events) {
      const topic = this.names.topicFor(e.type);
      const list = byTopic.get(topic) ?? [];
      list.push({
        key: e.key ?? String(e.value.jav_id ?? e.value.item_id ?? ''),
        value: this.codec.encodeValidated(this.ids.get(e.type)!, eventDefinitions().find((d) => d.type === e.type)!.avroType, e.value),
      });
      byTopic.set(topic, list);
    }
    for (let i = 0; ; i++) {
      try {
        await this.producer.sendBatch({ acks: -1, topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) });
        return;
      } catch (err) {
        if (i >= 3) throw err;
      }
    }
  }

  async sendRaw(topic: string, value: Buffer): Promise<void> {
    await this.producer.send({ topic, acks: -1, messages: [{ key: 'poison', value }] });
  }

  async disconnect(): Promise<void> {
    await this.producer.disconnect();
  }
}

/** End offset (high watermark) of every partition of the topics. */
export async function endOffsets(topics: readonly string[], client: Kafka = kafka): Promise<Map<string, number>> {
  const admin = client.admin();
  await admin.connect();
  try {
    const m = new Map<string, number>();
    for (const t of topics) for (const p of await admin.fetchTopicOffsets(t)) m.set(`${t}:${p.partition}`, Number(p.high));
    return m;
  } finally {
    await admin.disconnect();
  }
}
