import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import type { GroupLag } from '@tally/kafka';
import { uniqueName } from '../helpers/env';
import { createTopic, deleteTopics, kafka, produceRaw } from '../helpers/kafka';

const ROOT = resolve(__dirname, '../..');
const tally = (...args: string[]) =>
  execFileSync(process.execPath, [resolve(ROOT, 'packages/cli/dist/bin.js'), ...args], { encoding: 'utf8' });
const kafkaLibs = () => execFileSync('bash', ['-c', 'source stack/stack-lib.sh && kafka_libs'], { cwd: ROOT, encoding: 'utf8' }).trim();

/** The broker's own tool: kafka-consumer-groups --describe, parsed to (topic, partition) → [current, end, lag]. */
function brokerDescribe(group: string): Map<string, [string, string, string]> {
  const out = execFileSync(
    'java',
    [
      '-cp',
      `${kafkaLibs()}/*`,
      'org.apache.kafka.tools.consumer.group.ConsumerGroupCommand',
      '--bootstrap-server',
      '127.0.0.1:9092',
      '--describe',
      '--group',
      group,
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const rows = new Map<string, [string, string, string]>();
  for (const line of out.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f[0] === group) rows.set(`${f[1]}:${f[2]}`, [f[3]!, f[4]!, f[5]!]);
  }
  return rows;
}

describe('tally lag', () => {
  const topic = uniqueName('tally_lag');
  const group = uniqueName('lag-group');

  beforeAll(async () => {
    await createTopic(topic, 2);
    await produceRaw(
      topic,
      Array.from({ length: 10 }, (_, i) => ({ value: Buffer.from(`a${i}`), partition: 0 })),
    );
    await produceRaw(
      topic,
      Array.from({ length: 7 }, (_, i) => ({ value: Buffer.from(`b${i}`), partition: 1 })),
    );
    // The group has consumed (committed) 6 of partition 0 and all 7 of partition 1.
    const admin = kafka.admin();
    await admin.connect();
    await admin.setOffsets({
      groupId: group,
      topic,
      partitions: [
        { partition: 0, offset: '6' },
        { partition: 1, offset: '7' },
      ],
    });
    await admin.disconnect();
  });
  afterAll(() => deleteTopics([topic]));

  it('agrees with the broker after producing and consuming known counts', () => {
    const [g] = JSON.parse(tally('lag', '--group', group, '--json')) as GroupLag[];
    expect(g!.group).toBe(group);
    expect(g!.totalLag).toBe(4);
    expect(g!.partitions.map((p) => [p.partition, p.committed, p.end, p.lag])).toEqual([
      [0, '6', '10', 4],
      [1, '7', '7', 0],
    ]);
    const broker = brokerDescribe(group);
    for (const p of g!.partitions) expect(broker.get(`${topic}:${p.partition}`)).toEqual([p.committed, p.end, String(p.lag)]);
  });

  it('prints a table by default, and a named group that does not exist exits 1 naming it', () => {
    expect(tally('lag', '--group', group)).toMatch(new RegExp(`group ${group} .*lag 4`));
    let err: { status: number; stderr: string } | undefined;
    try {
      execFileSync(process.execPath, [resolve(ROOT, 'packages/cli/dist/bin.js'), 'lag', '--group', 'no-such-group-xyz'], {
        encoding: 'utf8',
        stdio: 'pipe',
      });
    } catch (e) {
      err = e as { status: number; stderr: string };
    }
    expect(err?.status).toBe(1);
    expect(err?.stderr).toMatch(/no-such-group-xyz/);
  });
});
