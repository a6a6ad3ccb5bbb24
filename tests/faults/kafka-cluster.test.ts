import type { Kafka } from 'kafkajs';
import { eventually } from '../helpers/env';
import { alive } from '../helpers/process';
import { byStatus, RetryingLoad, type Attempt } from './retrying-load';
import { CONSUMERS, expectConserved, faultWorld, summary } from './world';

// Scenario 15: a replicated Kafka — three KRaft nodes (broker+controller each), replication factor 3,
// min.insync.replicas 2, no unclean leader election: production's settings (stack/stack up
// kafka-cluster, a private one here). Under load, the leader of the busiest partitions is SIGKILLed:
// the partitions elect new leaders among the in-sync followers and the ingest API keeps answering 202
// (a few 503s while the leaders move). Once the ISRs have shrunk to two, a second node is SIGKILLed:
// one replica is left (and, nodes being controllers too, no controller quorum), so no acks=all write
// can complete and the API must answer 503, never 202. Both nodes come back (data kept), the
// consumers carry on in the same processes, and every 202 event lands exactly once in every sink.
const { world } = faultWorld({ privateServers: ['kafka-cluster'] });

const PRODUCE_TIMEOUT_MS = 5_000; // the ingest API's PRODUCE_TIMEOUT default
const ONE_REPLICA_MS = 15_000; // how long only one node is up
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface PartitionState {
  leader: number;
  isr: number[];
}

/** Leader and ISR of every partition of the world's event topics, by `topic/partition`. */
async function partitions(kafka: Kafka, topics: string[]): Promise<Map<string, PartitionState>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const meta = await admin.fetchTopicMetadata({ topics });
    const out = new Map<string, PartitionState>();
    for (const t of meta.topics)
      for (const p of t.partitions) out.set(`${t.name}/${p.partitionId}`, { leader: p.leader, isr: [...p.isr].sort() });
    return out;
  } finally {
    await admin.disconnect();
  }
}

/** The node leading the most records written since `from` (the busy partitions), among `among`. */
async function busiestLeader(kafka: Kafka, topics: string[], among: number[]): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const state = await partitions(kafka, topics);
    const load = new Map<number, number>(among.map((n) => [n, 0]));
    for (const t of topics) {
      for (const o of await admin.fetchTopicOffsets(t)) {
        const leader = state.get(`${t}/${o.partition}`)!.leader;
        if (load.has(leader)) load.set(leader, load.get(leader)! + Number(o.high));
      }
    }
    return [...load.entries()].sort((a, b) => b[1] - a[1])[0]![0];
  } finally {
    await admin.disconnect();
  }
}

/**
 * Where the given event ids are in Kafka (`topic/partition@offset`), or absent: tells an
 * acknowledged record that was never stored (or lost by the cluster) from one a consumer skipped.
 */
async function findInKafka(kafka: Kafka, topics: string[], ids: string[]): Promise<Record<string, string>> {
  const found: Record<string, string> = Object.fromEntries(ids.map((id) => [id, 'not in Kafka']));
  if (ids.length === 0) return found;
  const admin = kafka.admin();
  await admin.connect();
  const ends = new Map<string, number>();
  for (const t of topics)
    for (const o of await admin.fetchTopicOffsets(t)) if (Number(o.high) > 0) ends.set(`${t}/${o.partition}`, Number(o.high));
  await admin.disconnect();
  const consumer = kafka.consumer({ groupId: `faults-find-${Date.now()}` });
  await consumer.connect();
  await consumer.subscribe({ topics, fromBeginning: true });
  const needles = ids.map((id) => [id, Buffer.from(id.toLowerCase())] as const);
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 90_000);
    void consumer.run({
      eachMessage: async ({ topic, partition, message }) => {
        const v = message.value ?? Buffer.alloc(0);
        const lower = Buffer.from(v.toString('latin1').toLowerCase(), 'latin1');
        for (const [id, n] of needles)
          if (lower.includes(n))
            found[id] = `${found[id] === 'not in Kafka' ? '' : `${found[id]} `}${topic}/${partition}@${message.offset}`;
        const key = `${topic}/${partition}`;
        if (Number(message.offset) + 1 >= (ends.get(key) ?? 0)) ends.delete(key);
        if (ends.size === 0) {
          clearTimeout(timer);
          resolve();
        }
      },
    });
  });
  await consumer.disconnect();
  return found;
}

interface Step {
  what: string;
  at: number;
  /** Partitions whose leader changed compared with the state before the step. */
  elections?: number;
  ms?: number;
}

it('replicated Kafka (RF 3, min ISR 2): leader SIGKILLed, then a second node: 202 only while two replicas are in sync, 503 otherwise, every 202 exactly once, consumers go on', async () => {
  await world.startAll();
  const cluster = world.servers['kafka-cluster']!;
  const topics = [...world.names.eventTopics];
  const pids = Object.fromEntries(CONSUMERS.map((c) => [c, world.procs.get(c)!.child.pid]));
  const before = await partitions(world.kafka, topics);
  // The topics follow the cluster: `tally setup` asked for the broker default (3 replicas).
  expect([...before.values()].filter((p) => p.isr.length !== 3)).toEqual([]);

  const load = new RetryingLoad(world, { batch: 50, paceMs: 20, retryMs: 250, hangMs: PRODUCE_TIMEOUT_MS + 5_000, concurrency: 2 });
  const steps: Step[] = [];
  const kill = async (n: number): Promise<void> => {
    const pid = cluster.nodePid(n);
    process.kill(-pid, 'SIGKILL');
    await eventually(async () => (alive(pid) ? undefined : true), 10_000, `node ${n} gone`);
  };
  // Every consumer's committed offsets move on after an election (new leaders, group coordinator moved).
  const committed = async (c: (typeof CONSUMERS)[number]) =>
    [...(await world.committedOffsets(c)).values()].reduce((a, b) => a + Math.max(b, 0), 0);
  const consumersGoOn = async (after: string): Promise<void> => {
    const from = await Promise.all(CONSUMERS.map(committed));
    await Promise.all(
      CONSUMERS.map((c, i) =>
        eventually(async () => ((await committed(c).catch(() => 0)) > from[i]! ? true : undefined), 60_000, `${c} commits after ${after}`),
      ),
    );
  };
  const t0 = Date.now();
  let first = 0;
  let second = 0;
  let oneReplica = { from: 0, to: 0 };
  try {
    await load.acknowledgedMore(1_000, 60_000, 'before the first kill');

    // 1. The leader of the busy partitions dies: its partitions elect leaders among the other two.
    first = await busiestLeader(world.kafka, topics, [1, 2, 3]);
    const led = [...before.values()].filter((p) => p.leader === first).length;
    await kill(first);
    const killed1 = Date.now();
    await eventually(
      async () => {
        const now = await partitions(world.kafka, topics).catch(() => undefined);
        return now && [...now.values()].every((p) => p.leader !== first && p.leader >= 0) ? now : undefined;
      },
      60_000,
      `leaders moved off node ${first}`,
    );
    steps.push({ what: `node ${first} SIGKILLed (leader of ${led} partitions)`, at: killed1, elections: led, ms: Date.now() - killed1 });
    await load.acknowledgedMore(1_000, 60_000, `with node ${first} down`);
    await consumersGoOn(`node ${first} died`);
    // The followers drop the dead node from the ISRs (replica.lag.time.max.ms): two in sync, writes go on.
    await eventually(
      async () => {
        const now = await partitions(world.kafka, topics).catch(() => undefined);
        return now && [...now.values()].every((p) => p.isr.length === 2 && !p.isr.includes(first)) ? true : undefined;
      },
      60_000,
      `ISRs shrunk to two without node ${first}`,
    );
    steps.push({ what: 'ISRs at 2', at: Date.now() });
    await load.acknowledgedMore(500, 60_000, 'with two replicas in sync');

    // 2. A second node dies: one replica left, fewer than min.insync.replicas — nothing can be acknowledged.
    second = await busiestLeader(
      world.kafka,
      topics,
      [1, 2, 3].filter((n) => n !== first),
    );
    await kill(second);
    oneReplica = { from: Date.now(), to: 0 };
    steps.push({ what: `node ${second} SIGKILLed (one replica left)`, at: oneReplica.from });
    await sleep(ONE_REPLICA_MS);
    oneReplica.to = Date.now();

    // 3. The second node comes back: two in sync again, 202s again.
    await cluster.nodeUp(second);
    const up2 = Date.now();
    steps.push({ what: `node ${second} started again`, at: oneReplica.to, ms: up2 - oneReplica.to });
    await load.acknowledgedMore(500, 120_000, `after node ${second} came back`);
    await consumersGoOn(`node ${second} came back`);
    steps.push({ what: 'first 202 after it', at: load.between(up2).find((a) => a.status === 202)!.at });

    // 4. And the first: every partition back to three replicas in sync.
    const restarting1 = Date.now();
    await cluster.nodeUp(first);
    steps.push({ what: `node ${first} started again`, at: restarting1, ms: Date.now() - restarting1 });
    await eventually(
      async () => {
        const now = await partitions(world.kafka, topics).catch(() => undefined);
        return now && [...now.values()].every((p) => p.isr.length === 3) ? true : undefined;
      },
      120_000,
      'ISRs back at three',
    );
    steps.push({ what: 'ISRs at 3', at: Date.now() });
    await load.acknowledgedMore(500, 60_000, 'with all nodes back');
    await consumersGoOn('all nodes back');
  } catch (err) {
    await load.abort();
    throw err;
  } finally {
    await load.stop();
  }
  expect(load.abandoned).toBe(0);
  const loadMs = Date.now() - t0;

  const describe = (as: Attempt[]) => JSON.stringify(as.slice(0, 10));
  // Refusals are 503 only (Retry-After is set on every 503, app.ts): no 500, no hang, no connection error.
  expect({ refused: describe(load.attempts.filter((a) => a.status !== 202 && a.status !== 503)) }).toEqual({ refused: '[]' });
  const slowest = Math.max(...load.attempts.map((a) => a.ms));
  expect(slowest).toBeLessThan(PRODUCE_TIMEOUT_MS + 2_500);
  // With one replica left: no request asked and answered in that window got a 202, and some got 503.
  const whileOne = load.attempts.filter((a) => a.at >= oneReplica.from && a.at + a.ms < oneReplica.to);
  expect({
    accepted: whileOne.filter((a) => a.status === 202).length,
    refused: whileOne.filter((a) => a.status === 503).length > 0,
  }).toEqual({ accepted: 0, refused: true });
  // With one node down (two replicas in sync), writes were accepted.
  const killed1 = steps[0]!.at;
  expect(load.between(killed1, oneReplica.from).filter((a) => a.status === 202).length).toBeGreaterThan(0);

  // The consumers went on by themselves after each election: the same processes, ready, lag 0 (conserve).
  for (const c of CONSUMERS) {
    expect({ c, running: world.isRunning(c), pid: world.procs.get(c)!.child.pid }).toEqual({ c, running: true, pid: pids[c] });
    await eventually(async () => ((await world.readyz(c)) === 200 ? true : undefined), 60_000, `${c} ready`);
  }
  const report = await world.conserve();
  const after = await partitions(world.kafka, topics);
  const moved = [...after.entries()].filter(([k, p]) => before.get(k)!.leader !== p.leader).length;
  const statuses = (from: number, to: number) => JSON.stringify(byStatus(load.between(from, to)));
  console.log(
    `${summary('kafka-cluster', report)}; requests ${JSON.stringify(byStatus(load.attempts))}, events acknowledged ${load.acknowledged}, slowest ${slowest} ms, load ${loadMs} ms; ` +
      `with node ${first} down ${statuses(killed1, oneReplica.from)}, with one replica ${statuses(oneReplica.from, oneReplica.to)}; ` +
      `steps ${steps.map((s) => `+${((s.at - t0) / 1000).toFixed(1)} s ${s.what}${s.ms !== undefined ? ` (${s.ms} ms)` : ''}`).join(', ')}; ` +
      `partitions led elsewhere than before at the end ${moved}/${after.size}; ` +
      // The producer's check at work: a request kafkajs resolved without one of its partitions (503).
      `503s for an unacknowledged partition ${world.refusals.filter((r) => r.includes('without partitions')).length}`,
  );
  if (report.rawRows.missingIds.length > 0) {
    const ingest = (world as unknown as { ingest?: { output: string } }).ingest?.output ?? '';
    console.log(
      `missing events, looked up in Kafka: ${JSON.stringify(await findInKafka(world.kafka, topics, report.rawRows.missingIds))}; ` +
        `ingest API errors: ${ingest
          .split('\n')
          .filter((l) => /error|warn|sequence/i.test(l))
          .slice(-30)
          .join('\n')}`,
    );
  }
  expect(report.accepted).toBe(load.acknowledged);
  expectConserved(report);
}, 600_000);
