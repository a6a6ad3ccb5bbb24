import { randomUUID } from 'node:crypto';
import { eventDefinitions, sampleEvents, validateEvent, type EventType } from '@tally/events';
import { RegistryCodec } from '@tally/kafka';
import { env, eventually, uniqueName } from '../helpers/env';
import { kafka } from '../helpers/kafka';
import { startIngest, tallySetup, testPort } from '../helpers/services';
import type { ServiceProcess } from '../helpers/process';

// The ingest API as a real process against the real Kafka and registry.
const procs: ServiceProcess[] = [];
afterAll(async () => {
  await Promise.all(procs.map((p) => p.kill()));
});

function clientBody(type: EventType): Record<string, unknown> {
  const {
    received_at: _r,
    is_bot: _b,
    repeat_view: _v,
    ip: _i,
    user_agent: _u,
    ...rest
  } = sampleEvents()[type] as unknown as Record<string, unknown>;
  return { ...rest, type, event_id: randomUUID(), occurred_at: Date.now() - 2_000, sent_at: Date.now() - 1_000 };
}

/** Reads the event topics from `from` (offsets taken before posting) until every wanted event id has been seen. */
async function consumeEvents(
  ids: Set<string>,
  from: Map<string, { partition: number; offset: string }[]>,
): Promise<Map<string, { topic: string; key: string | null; value: Record<string, unknown> }>> {
  const codec = new RegistryCodec(env.SCHEMA_REGISTRY_URL);
  const found = new Map<string, { topic: string; key: string | null; value: Record<string, unknown> }>();
  const consumer = kafka.consumer({ groupId: uniqueName('e2e-reader') });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: eventDefinitions().map((d) => d.topic), fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ topic, message }) => {
        const { value } = await codec
          .decode<Record<string, unknown>>(message.value)
          .catch(() => ({ value: {} as Record<string, unknown> }));
        if (ids.has(value.event_id as string)) found.set(value.event_id as string, { topic, key: message.key?.toString() ?? null, value });
      },
    });
    for (const [topic, partitions] of from) for (const p of partitions) consumer.seek({ topic, partition: p.partition, offset: p.offset });
    await eventually(async () => (found.size >= ids.size ? true : undefined), 45_000, `${ids.size} events in Kafka`);
    return found;
  } finally {
    await consumer.disconnect();
  }
}

async function endOffsets(topics: string[]): Promise<Map<string, { partition: number; offset: string }[]>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const m = new Map<string, { partition: number; offset: string }[]>();
    for (const t of topics)
      m.set(
        t,
        (await admin.fetchTopicOffsets(t)).map((p) => ({ partition: p.partition, offset: p.high })),
      );
    return m;
  } finally {
    await admin.disconnect();
  }
}

describe('ingest-api end to end', () => {
  beforeAll(() => tallySetup());

  it('every event type: POST, then consume and decode from its topic — fields as sent plus enrichment', async () => {
    const { proc, url } = await startIngest({ PORT: String(testPort(18100)) });
    procs.push(proc);
    const types = eventDefinitions().map((d) => d.type);
    const bodies = types.map(clientBody);
    const from = await endOffsets(eventDefinitions().map((d) => d.topic));
    const t0 = Date.now();
    const res = await fetch(`${url}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer sk-test', 'user-agent': 'Mozilla/5.0 (e2e) Firefox/128.0' },
      body: JSON.stringify({ events: bodies }),
    });
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({ accepted: bodies.length, rejected: 0 });

    const found = await consumeEvents(new Set(bodies.map((b) => b.event_id as string)), from);
    for (const [i, body] of bodies.entries()) {
      const got = found.get(body.event_id as string)!;
      const d = eventDefinitions()[i]!;
      expect(got.topic).toBe(d.topic);
      const { type: _t, occurred_at: _o, sent_at: sentAt, ...sent } = body;
      expect(got.value).toMatchObject({
        ...sent,
        sent_at: sentAt,
        ip: '127.0.0.1',
        user_agent: 'Mozilla/5.0 (e2e) Firefox/128.0',
        is_bot: false,
      });
      expect(got.value.received_at as number).toBeGreaterThanOrEqual(t0);
      expect(validateEvent(d.type, got.value).ok).toBe(true);
      expect(got.key).toBe(
        d.key.map((k) => (k === 'viewer' ? (body.user_id === null ? 'ip:127.0.0.1' : `user:${body.user_id}`) : String(body[k]))).join(':'),
      );
    }

    proc.signal('SIGTERM');
    expect((await proc.waitExit()).code).toBe(0);
  });

  it('answers 503 with Retry-After, never 202, while Kafka is unreachable; /readyz names kafka', async () => {
    const { proc, url } = await startIngest(
      { PORT: String(testPort(18700)), KAFKA_BROKERS: '127.0.0.1:1', PRODUCE_TIMEOUT: '1s' },
      { waitReady: false },
    );
    procs.push(proc);
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { checks: Record<string, string> }).checks.kafka).toBe('producer not connected');
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${url}/v1/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-tally-key': 'bk-test' },
        body: JSON.stringify(clientBody('movie.viewed')),
      });
      expect(res.status).toBe(503);
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    }
    proc.signal('SIGTERM');
    expect((await proc.waitExit()).code).toBe(0);
  });
});
