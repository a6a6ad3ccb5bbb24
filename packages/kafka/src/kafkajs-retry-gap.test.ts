// The kafkajs behaviour TallyProducer guards against (producer.ts, `unacknowledged`), pinned on the
// real kafkajs code: its produce path (producer/sendMessages.js) driven with a stand-in cluster of
// two brokers. Should a kafkajs upgrade fix the gap, this test fails and says so; the guard can then go.
/* eslint-disable @typescript-eslint/no-require-imports -- kafkajs' internal modules have no types */
const sendMessagesFactory = require('kafkajs/src/producer/sendMessages') as (
  deps: unknown,
) => (req: unknown) => Promise<{ topicName: string; partition: number }[]>;
const createRetry = require('kafkajs/src/retry') as (opts: unknown) => unknown;
const { KafkaJSConnectionError } = require('kafkajs/src/errors') as { KafkaJSConnectionError: new (m: string) => Error };
/* eslint-enable @typescript-eslint/no-require-imports */

interface Produced {
  nodeId: number;
  partitions: number[];
}

/** Two brokers; partition 0 led by broker 1, partition 1 by broker 2, until broker 1 "dies". */
function cluster() {
  const leaders: Record<number, number> = { 0: 1, 1: 2 };
  const produced: Produced[] = [];
  let brokerOneDown = false;
  const broker = (nodeId: number) => ({
    nodeId,
    produce: async ({ topicData }: { topicData: { topic: string; partitions: { partition: number }[] }[] }) => {
      const partitions = topicData.flatMap((t) => t.partitions.map((p) => p.partition));
      produced.push({ nodeId, partitions });
      if (nodeId === 1 && brokerOneDown) {
        // The election: by the retry's metadata refresh, partition 0's new leader is broker 2.
        leaders[0] = 2;
        throw new KafkaJSConnectionError('Connection error: ECONNRESET');
      }
      return {
        topics: topicData.map((t) => ({
          topicName: t.topic,
          partitions: t.partitions.map((p) => ({ partition: p.partition, errorCode: 0, baseOffset: '0' })),
        })),
      };
    },
  });
  const brokers = { 1: broker(1), 2: broker(2) } as Record<number, ReturnType<typeof broker>>;
  const fake = {
    refreshMetadataIfNecessary: async () => undefined,
    refreshMetadata: async () => undefined,
    addMultipleTargetTopics: async () => undefined,
    isConnected: () => true,
    removeBroker: () => undefined,
    findTopicPartitionMetadata: () => [0, 1].map((partitionId) => ({ partitionId, leader: leaders[partitionId] })),
    findLeaderForPartitions: (_topic: string, partitions: string[]) => {
      const out: Record<number, number[]> = {};
      for (const p of partitions) (out[leaders[Number(p)]!] ??= []).push(Number(p));
      return out;
    },
    findBroker: async ({ nodeId }: { nodeId: number }) => brokers[nodeId],
  };
  const eosManager = {
    acquireBrokerLock: async () => undefined,
    releaseBrokerLock: async () => undefined,
    isTransactional: () => false,
    getSequence: () => 0,
    updateSequence: () => undefined,
    getProducerId: () => 1,
    getProducerEpoch: () => 0,
  };
  return { fake, eosManager, produced, killBrokerOne: () => (brokerOneDown = true) };
}

it('kafkajs 2.2.4 resolves a send without ever sending a partition whose leader moved to a broker that had already answered', async () => {
  const c = cluster();
  const logger = { debug: () => undefined, error: () => undefined, warn: () => undefined, info: () => undefined };
  const send = sendMessagesFactory({
    logger,
    cluster: c.fake,
    eosManager: c.eosManager,
    retrier: createRetry({ retries: 3, initialRetryTime: 1, maxRetryTime: 5 }),
    // Records carry their partition (as TallyProducer's keeps them): 'a' → 0 (broker 1), 'b' → 1 (broker 2).
    partitioner: ({ message }: { message: { partition: number } }) => message.partition,
  });
  c.killBrokerOne();
  const result = await send({
    acks: -1,
    timeout: 1000,
    topicMessages: [
      {
        topic: 't',
        messages: [
          { value: 'a', partition: 0 },
          { value: 'b', partition: 1 },
        ],
      },
    ],
  });

  // Attempt 1: broker 1 fails, broker 2 takes partition 1. The retry finds partition 0 on broker 2,
  // which has answered already, so nothing is sent: partition 0's record was never written.
  expect(c.produced).toEqual([
    { nodeId: 1, partitions: [0] },
    { nodeId: 2, partitions: [1] },
  ]);
  // And the send resolves, acknowledging partition 1 only: TallyProducer turns this into a failure.
  expect(result.map((r) => `${r.topicName}:${r.partition}`)).toEqual(['t:1']);
});
