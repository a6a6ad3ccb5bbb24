import { createKafka, TallyProducer } from '@tally/kafka';
import { createLogger } from '@tally/runtime';
import { env, uniqueName } from '../helpers/env';
import { createTopic, deleteTopics, readTopic } from '../helpers/kafka';

describe('TallyProducer', () => {
  const topic = uniqueName('producer');
  const logger = createLogger({ service: 'producer-test', level: 'silent' });
  afterAll(() => deleteTopics([topic]));

  it('coalesces concurrent sends into few produce requests, and every send resolves only once acknowledged', async () => {
    await createTopic(topic, 3);
    const producer = new TallyProducer(createKafka({ brokers: env.KAFKA_BROKERS, clientId: 'producer-test', logger }));
    await producer.connect();
    // One kafkajs producer per request in flight: count the requests of all of them.
    const slots = (producer as unknown as { slots: { producer: { sendBatch: (...a: unknown[]) => Promise<unknown> } }[] }).slots;
    let requests = 0;
    for (const { producer: inner } of slots) {
      const original = inner.sendBatch.bind(inner);
      inner.sendBatch = (...a: unknown[]) => {
        requests++;
        return original(...a);
      };
    }
    await Promise.all(Array.from({ length: 300 }, (_, i) => producer.send([{ topic, key: `k${i}`, value: Buffer.from(`v${i}`) }])));
    await producer.disconnect();
    expect(requests).toBeLessThan(30);
    const got = await readTopic(topic, 300);
    expect(new Set(got.map((r) => r.value!.toString())).size).toBe(300);
  });

  it('rejects with a retriable error when Kafka does not acknowledge in time', async () => {
    const producer = new TallyProducer(
      createKafka({ brokers: ['127.0.0.1:1'], clientId: 'producer-test', logger, connectionTimeoutMs: 200 }),
      { sendTimeoutMs: 300 },
    );
    const err = await producer.send([{ topic, key: null, value: Buffer.from('x') }]).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'KAFKA_UNAVAILABLE', retriable: true });
  });
});
