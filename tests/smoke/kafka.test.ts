import { Kafka, logLevel } from 'kafkajs';
import { env, eventually, uniqueName } from '../helpers/env';

// kafkajs 2.2.4 against the stack's Kafka 4.x: version negotiation, admin, idempotent produce,
// consumer-group join/fetch/commit — the calls every Tally service makes.
describe('smoke: Kafka through kafkajs', () => {
  const kafka = new Kafka({ clientId: 'smoke', brokers: [...env.KAFKA_BROKERS], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  const topic = uniqueName('smoke_kafka');
  const groupId = uniqueName('smoke_group');

  beforeAll(async () => {
    await admin.connect();
  });
  afterAll(async () => {
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  });

  it('creates a topic, produces, consumes in a group and commits offsets', async () => {
    expect(await admin.createTopics({ topics: [{ topic, numPartitions: 3, replicationFactor: 1 }], waitForLeaders: true })).toBe(true);
    const meta = await admin.fetchTopicMetadata({ topics: [topic] });
    expect(meta.topics[0]!.partitions).toHaveLength(3);

    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const messages = Array.from({ length: 30 }, (_, i) => ({ key: `k${i % 5}`, value: `v${i}` }));
    const acks = await producer.send({ topic, acks: -1, messages });
    await producer.disconnect();
    expect(acks.reduce((n, a) => n + (a.errorCode === 0 ? 1 : 0), 0)).toBe(acks.length);

    const consumer = kafka.consumer({ groupId });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const received: string[] = [];
    await consumer.run({ eachMessage: async ({ message }) => void received.push(message.value!.toString()) });
    await eventually(async () => (received.length >= 30 ? true : undefined), 30_000, '30 messages');
    await consumer.disconnect(); // commits the consumed offsets
    expect(received.sort()).toEqual(messages.map((m) => m.value).sort());

    const offsets = await admin.fetchOffsets({ groupId, topics: [topic] });
    const committed = offsets[0]!.partitions.reduce((n, p) => n + Number(p.offset), 0);
    expect(committed).toBe(30);
  });
});
