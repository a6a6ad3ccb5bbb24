import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import avro from 'avsc';
import { eventDefinition, keyFor } from '@tally/events';
import { RegistryCodec } from '@tally/kafka';
import { env, eventually } from '../helpers/env';
import { kafka } from '../helpers/kafka';
import { makeEvent } from '../helpers/pipeline';
import { testPort } from '../helpers/services';
import { isolatedSuite, startEventLogger } from '../event-logger/harness';

const ROOT = resolve(__dirname, '../..');
const run = promisify(execFile);

describe('tally dlq: a poison message is listed with its reason and, after the fix, requeued and processed once', () => {
  const suite = isolatedSuite();
  const tally = async (...args: string[]) =>
    (
      await run(process.execPath, [resolve(ROOT, 'packages/cli/dist/bin.js'), ...args], {
        env: { ...process.env, TOPIC_PREFIX: suite.iso.prefix, MYSQL_URL: suite.iso.tmp.url },
      })
    ).stdout;

  it('unknown schema → dead letter → schema restored → requeue → one row; a second requeue changes nothing', async () => {
    const { names, tmp } = suite.iso;
    const topic = names.topicFor('movie.viewed');
    const subject = `${topic}-value`;
    // A schema only this test uses (same fields, its own doc, its own subject), so deleting it affects no one else.
    const variant = { ...(eventDefinition('movie.viewed').avroSchema as object), doc: `dlq test ${randomUUID()}` };
    const codec = new RegistryCodec(env.SCHEMA_REGISTRY_URL);
    const variantSubject = `${topic}-dlq-test-${randomUUID()}`;
    const id = await codec.register(variantSubject, variant);
    const poison = makeEvent('movie.viewed', { jav_id: 4242, user_id: 7 });
    const good = makeEvent('movie.viewed', { jav_id: 4243, user_id: 8 });
    const encode = (v: Record<string, unknown>) => codec.encodeValidated(id, avro.Type.forSchema(variant as avro.Schema), v);
    const poisonBytes = encode(poison);
    // The cause: the registry lost that version (someone deleted it, or a registry without storage restarted).
    for (const q of ['', '?permanent=true']) await fetch(`${env.SCHEMA_REGISTRY_URL}/subjects/${variantSubject}${q}`, { method: 'DELETE' });
    expect((await fetch(`${env.SCHEMA_REGISTRY_URL}/schemas/ids/${id}`)).status).toBe(404);

    const standard = await codec.register(subject, eventDefinition('movie.viewed').avroSchema);
    const producer = kafka.producer({ idempotent: true });
    await producer.connect();
    await producer.send({
      topic,
      acks: -1,
      messages: [
        { key: keyFor({ type: 'movie.viewed', payload: poison } as never), value: poisonBytes },
        {
          key: keyFor({ type: 'movie.viewed', payload: good } as never),
          value: codec.encodeValidated(standard, eventDefinition('movie.viewed').avroType, good),
        },
      ],
    });
    await producer.disconnect();

    const port = testPort(22_000);
    suite.procs.push(await startEventLogger(suite.iso, port));
    const rows = (eventId: unknown) =>
      tmp
        .db('view_events')
        .where({ event_id: eventId })
        .count<{ n: number }[]>({ n: '*' })
        .then((r) => Number(r[0]!.n));
    await eventually(async () => ((await rows(good.event_id)) === 1 ? true : undefined), 90_000, 'the good event logged');

    const listed = await eventually(
      async () => {
        const l = JSON.parse(await tally('dlq', 'list', '--json')) as {
          id: string;
          reason: string;
          service: string;
          source: { topic: string };
        }[];
        return l.length === 1 ? l : undefined;
      },
      90_000,
      'the poison message in the dead-letter topic',
    );
    expect(listed[0]).toMatchObject({ reason: 'unknown_schema', service: 'event-logger', source: { topic } });
    expect(await tally('dlq', 'list')).toMatch(/1 dead letter \(unknown_schema: 1\)/);
    expect(await tally('dlq', 'show', listed[0]!.id)).toMatch(new RegExp(`schema id ${id} is unknown`));
    expect(await rows(poison.event_id)).toBe(0);

    // The fix: the same schema registered again (Apicurio gives identical content its old id back).
    expect(await new RegistryCodec(env.SCHEMA_REGISTRY_URL).register(variantSubject, variant)).toBe(id);
    expect(await tally('dlq', 'requeue', '--reason', 'unknown_schema')).toMatch(/requeued 1, skipped 0/);
    await eventually(async () => ((await rows(poison.event_id)) === 1 ? true : undefined), 90_000, 'the requeued event logged');

    // Once: a second requeue sends nothing; even a forced one adds no row (the sink dedups on event_id).
    expect(await tally('dlq', 'requeue')).toMatch(/requeued 0, skipped 1 already requeued/);
    expect(await tally('dlq', 'requeue', '--again')).toMatch(/requeued 1, skipped 0/);
    const metric = async () =>
      Number(
        /tally_messages_processed_total\{[^}]*movie\.viewed[^}]*\} (\d+)/.exec(
          await (await fetch(`http://127.0.0.1:${port}/metrics`)).text(),
        )?.[1] ?? 0,
      );
    await eventually(async () => ((await metric()) >= 3 ? true : undefined), 90_000, 'the forced requeue consumed');
    expect(await rows(poison.event_id)).toBe(1);
    expect(
      await tmp
        .db('view_events')
        .count<{ n: number }[]>({ n: '*' })
        .then((r) => Number(r[0]!.n)),
    ).toBe(2);
  }, 300_000);
});
