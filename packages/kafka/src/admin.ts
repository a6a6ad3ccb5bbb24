import type { Kafka } from 'kafkajs';

export interface TopicSpec {
  topic: string;
  partitions: number;
  retentionMs: number;
  /** Unset: the broker's `default.replication.factor` (1 on the local stack, 3 on kafka-cluster and in production). */
  replicationFactor?: number;
}

/**
 * Creates missing topics and reports the ones that exist with fewer partitions than asked (Kafka
 * can grow partitions but that changes key→partition placement, so it is left to a person).
 */
export async function ensureTopics(
  kafka: Kafka,
  specs: TopicSpec[],
): Promise<{ created: string[]; existing: string[]; mismatched: string[] }> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const have = new Set(await admin.listTopics());
    const missing = specs.filter((s) => !have.has(s.topic));
    if (missing.length > 0) {
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((s) => ({
          topic: s.topic,
          numPartitions: s.partitions,
          // -1: the cluster decides (default.replication.factor), so one command fits every cluster.
          replicationFactor: s.replicationFactor ?? -1,
          configEntries: [{ name: 'retention.ms', value: String(s.retentionMs) }],
        })),
      });
    }
    const existingSpecs = specs.filter((s) => have.has(s.topic));
    const mismatched: string[] = [];
    if (existingSpecs.length > 0) {
      const meta = await admin.fetchTopicMetadata({ topics: existingSpecs.map((s) => s.topic) });
      for (const t of meta.topics) {
        const want = existingSpecs.find((s) => s.topic === t.name)!;
        if (t.partitions.length < want.partitions)
          mismatched.push(`${t.name} has ${t.partitions.length} partitions, config asks ${want.partitions}`);
      }
    }
    return { created: missing.map((s) => s.topic), existing: existingSpecs.map((s) => s.topic), mismatched };
  } finally {
    await admin.disconnect();
  }
}
