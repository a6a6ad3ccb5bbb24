import { consumerLag, createKafka, type GroupLag } from '@tally/kafka';
import type { Logger } from '@tally/runtime';
import type { CliConfig } from '../context';

export function formatLag(groups: GroupLag[]): string {
  const lines: string[] = [];
  for (const g of groups) {
    lines.push(`group ${g.group} (${g.state}, ${g.members} member${g.members === 1 ? '' : 's'}): lag ${g.totalLag}`);
    lines.push(
      `  ${'topic'.padEnd(36)} ${'part'.padStart(4)} ${'committed'.padStart(10)} ${'end'.padStart(10)} ${'lag'.padStart(8)}  member`,
    );
    for (const p of g.partitions) {
      lines.push(
        `  ${p.topic.padEnd(36)} ${String(p.partition).padStart(4)} ${(p.committed ?? '-').padStart(10)} ${p.end.padStart(10)} ${String(p.lag).padStart(8)}  ${p.member ?? '-'}`,
      );
    }
  }
  return lines.join('\n') + '\n';
}

/** `tally lag`: exit 0; with no group found, says so (exit 1 when groups were named and none exists). */
export async function showLag(config: CliConfig, logger: Logger, o: { group?: string[]; json?: boolean }): Promise<number> {
  const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: 'tally-cli', logger });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const groups = (await consumerLag(admin, o.group)).filter((g) => !(o.group && g.state === 'Dead' && g.partitions.length === 0));
    if (o.json) process.stdout.write(JSON.stringify(groups, null, 2) + '\n');
    else process.stdout.write(groups.length === 0 ? 'no consumer groups\n' : formatLag(groups));
    if (o.group && o.group.length > 0 && groups.length === 0) {
      process.stderr.write(`tally: no such consumer group: ${o.group.join(', ')}\n`);
      return 1;
    }
    return 0;
  } finally {
    await admin.disconnect();
  }
}
