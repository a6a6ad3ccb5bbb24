import { AssignerProtocol, type Admin } from 'kafkajs';

export interface PartitionLag {
  topic: string;
  partition: number;
  /** Next offset the group will read (Kafka's committed offset); null when the group never committed here. */
  committed: string | null;
  /** High watermark: offset of the next message to be written. */
  end: string;
  /** end − committed; with no commit, end − earliest retained offset (what a new member would read). */
  lag: number;
  /** Member currently assigned this partition (client id / host), if any. */
  member: string | null;
}

export interface GroupLag {
  group: string;
  state: string;
  members: number;
  totalLag: number;
  partitions: PartitionLag[];
}

/**
 * Per group and partition: committed offset, end offset, lag and owner, from the broker's own
 * bookkeeping (OffsetFetch, ListOffsets, DescribeGroups) — the same numbers `kafka-consumer-groups.sh
 * --describe` prints. Topics come from the group's commits and its members' assignments, so a group
 * that was assigned a topic but never committed there still shows its whole backlog as lag.
 */
export async function consumerLag(admin: Admin, groups?: readonly string[]): Promise<GroupLag[]> {
  const ids =
    groups && groups.length > 0
      ? [...groups]
      : (await admin.listGroups()).groups
          .filter((g) => g.protocolType === 'consumer')
          .map((g) => g.groupId)
          .sort();
  if (ids.length === 0) return [];
  const described = await admin.describeGroups(ids);
  const topicEnds = new Map<string, Map<number, { low: string; high: string }>>();
  const ends = async (topic: string) => {
    let m = topicEnds.get(topic);
    if (!m) {
      // A topic deleted since the group committed there (an old test prefix) has no lag: no partitions.
      const offsets = await admin.fetchTopicOffsets(topic).catch(() => []);
      m = new Map(offsets.map((p) => [p.partition, { low: p.low, high: p.high }]));
      topicEnds.set(topic, m);
    }
    return m;
  };
  const out: GroupLag[] = [];
  for (const g of described.groups) {
    const owner = new Map<string, string>();
    for (const member of g.members) {
      if (!member.memberAssignment || member.memberAssignment.length === 0) continue;
      const a = AssignerProtocol.MemberAssignment.decode(member.memberAssignment);
      for (const [topic, parts] of Object.entries(a?.assignment ?? {}))
        for (const p of parts) owner.set(`${topic}:${p}`, `${member.clientId}/${member.clientHost}`);
    }
    const committed = await admin.fetchOffsets({ groupId: g.groupId });
    const topics = new Set([...committed.map((t) => t.topic), ...[...owner.keys()].map((k) => k.slice(0, k.lastIndexOf(':')))]);
    const partitions: PartitionLag[] = [];
    for (const topic of [...topics].sort()) {
      const byPartition = new Map((committed.find((t) => t.topic === topic)?.partitions ?? []).map((p) => [p.partition, p.offset]));
      for (const [partition, { low, high }] of [...(await ends(topic))].sort((a, b) => a[0] - b[0])) {
        const c = byPartition.get(partition);
        const has = c !== undefined && c !== '-1';
        partitions.push({
          topic,
          partition,
          committed: has ? c : null,
          end: high,
          lag: Math.max(0, Number(BigInt(high) - BigInt(has ? c : low))),
          member: owner.get(`${topic}:${partition}`) ?? null,
        });
      }
    }
    out.push({
      group: g.groupId,
      state: g.state,
      members: g.members.length,
      totalLag: partitions.reduce((n, p) => n + p.lag, 0),
      partitions,
    });
  }
  return out;
}
