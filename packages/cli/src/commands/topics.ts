import { deadLetterTopic, eventDefinitions, topicNames } from '@tally/events';
import { createKafka, ensureTopics, type TopicSpec } from '@tally/kafka';
import type { Logger } from '@tally/runtime';
import type { CliConfig } from '../context';

export interface TopicOverrides {
  partitions?: number;
  retentionMs?: number;
}

/** Every event topic and the dead-letter topic, from schemas/topics.json, with overrides applied. */
export function topicSpecs(prefix: string, o: TopicOverrides = {}): TopicSpec[] {
  const dl = deadLetterTopic();
  const names = topicNames(prefix);
  return [
    ...eventDefinitions().map((d) => ({
      topic: names.topicFor(d.type),
      partitions: o.partitions ?? d.partitions,
      retentionMs: o.retentionMs ?? d.retention_ms,
    })),
    // The dead-letter topic keeps its own, longer retention: a person must have time to look.
    { topic: names.deadLetter, partitions: o.partitions ?? dl.partitions, retentionMs: dl.retention_ms },
  ];
}

export async function createTopics(config: CliConfig, logger: Logger, o: TopicOverrides = {}): Promise<number> {
  const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: 'tally-cli', logger });
  const r = await ensureTopics(kafka, topicSpecs(config.TOPIC_PREFIX, o));
  process.stdout.write(`topics: ${r.created.length} created, ${r.existing.length} already there\n`);
  for (const t of r.created) process.stdout.write(`  + ${t}\n`);
  for (const m of r.mismatched) process.stdout.write(`  ! ${m}\n`);
  return 0;
}

export async function describeTopics(config: CliConfig, logger: Logger): Promise<number> {
  const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: 'tally-cli', logger });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const specs = topicSpecs(config.TOPIC_PREFIX);
    const have = new Set(await admin.listTopics());
    process.stdout.write(`${'topic'.padEnd(32)} ${'partitions'.padStart(10)} ${'messages'.padStart(10)}\n`);
    for (const s of specs) {
      if (!have.has(s.topic)) {
        process.stdout.write(`${s.topic.padEnd(32)} ${'missing'.padStart(10)}\n`);
        continue;
      }
      const offsets = await admin.fetchTopicOffsets(s.topic);
      const messages = offsets.reduce((n, p) => n + (Number(p.high) - Number(p.low)), 0);
      process.stdout.write(`${s.topic.padEnd(32)} ${String(offsets.length).padStart(10)} ${String(messages).padStart(10)}\n`);
    }
    return specs.every((s) => have.has(s.topic)) ? 0 : 1;
  } finally {
    await admin.disconnect();
  }
}
