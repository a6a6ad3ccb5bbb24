import type { Knex } from 'knex';
import { createMysql } from '@tally/clients';
import { topicNames } from '@tally/events';
import { createKafka, RegistryCodec, TallyProducer } from '@tally/kafka';
import type { Logger } from '@tally/runtime';
import type { CliConfig } from '../context';
import { matches, readDeadLetters, requeueHeaders, type DeadLetterEntry, type DeadLetterFilter } from './dead-letters';

const REQUEUES = 'dead_letter_requeues';

function line(e: DeadLetterEntry): string {
  const src = `${e.source.topic}[${e.source.partition ?? '?'}]@${e.source.offset ?? '?'}`;
  return `${e.id.padEnd(10)} ${e.failedAt.padEnd(24)} ${e.reason.padEnd(16)} ${e.service.padEnd(13)} ${src}  ${e.detail.slice(0, 100)}`;
}

export async function dlqList(config: CliConfig, logger: Logger, o: DeadLetterFilter & { json?: boolean }): Promise<number> {
  const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: 'tally-cli', logger });
  const entries = (await readDeadLetters(kafka, topicNames(config.TOPIC_PREFIX).deadLetter)).filter((e) => matches(e, o));
  if (o.json) {
    process.stdout.write(
      JSON.stringify(
        entries.map(({ key, value, ...rest }) => ({ ...rest, keyText: key?.toString('utf8') ?? null, valueBytes: value?.length ?? 0 })),
        null,
        2,
      ) + '\n',
    );
    return 0;
  }
  const byReason = new Map<string, number>();
  for (const e of entries) byReason.set(e.reason, (byReason.get(e.reason) ?? 0) + 1);
  process.stdout.write(
    `${entries.length} dead letter${entries.length === 1 ? '' : 's'}${byReason.size ? ` (${[...byReason].map(([r, n]) => `${r}: ${n}`).join(', ')})` : ''}\n`,
  );
  if (entries.length > 0)
    process.stdout.write(`${'id'.padEnd(10)} ${'failed at'.padEnd(24)} ${'reason'.padEnd(16)} ${'service'.padEnd(13)} source  detail\n`);
  for (const e of entries) process.stdout.write(line(e) + '\n');
  return 0;
}

export async function dlqShow(config: CliConfig, logger: Logger, id: string): Promise<number> {
  if (!/^\d+:\d+$/.test(id)) throw new Error(`dead letter id "${id}" must be <partition>:<offset>, as \`tally dlq list\` prints it`);
  const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: 'tally-cli', logger });
  const e = (await readDeadLetters(kafka, topicNames(config.TOPIC_PREFIX).deadLetter)).find((x) => x.id === id);
  if (!e) {
    process.stderr.write(`tally: no dead letter ${id}\n`);
    return 1;
  }
  let decoded: string;
  try {
    decoded = JSON.stringify(
      (await new RegistryCodec(config.SCHEMA_REGISTRY_URL).decode(e.value)).value,
      (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v),
      2,
    );
  } catch (err) {
    decoded = `(not decodable: ${err instanceof Error ? err.message : String(err)})\nfirst bytes: ${e.value?.subarray(0, 64).toString('hex') ?? 'null'}`;
  }
  process.stdout.write(
    [
      `id        ${e.id}`,
      `reason    ${e.reason} (step ${e.step}, by ${e.service})`,
      `detail    ${e.detail}`,
      `source    ${e.source.topic} partition ${e.source.partition} offset ${e.source.offset}`,
      `failed at ${e.failedAt}`,
      `key       ${e.key?.toString('utf8') ?? 'null'}`,
      `value     ${e.value?.length ?? 0} bytes`,
      'headers',
      ...Object.entries(e.headers).map(([k, v]) => `  ${k}: ${v}`),
      'payload',
      decoded,
      '',
    ].join('\n'),
  );
  return 0;
}

/**
 * Sends dead letters back to the topic they came from — key, value and original headers untouched,
 * plus `tally-requeued-from` — so they take the normal path after the cause was fixed. Each dead
 * letter is requeued once (dead_letter_requeues); a second run skips it unless --again. Should a run
 * die between producing and recording, a re-run sends it again: the sinks deduplicate on event_id.
 */
export async function dlqRequeue(
  config: CliConfig,
  logger: Logger,
  o: DeadLetterFilter & { dryRun?: boolean; again?: boolean },
): Promise<number> {
  const dlqTopic = topicNames(config.TOPIC_PREFIX).deadLetter;
  const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: 'tally-cli', logger });
  const entries = (await readDeadLetters(kafka, dlqTopic)).filter((e) => matches(e, o));
  const db: Knex = createMysql({ url: config.MYSQL_URL, poolMax: 2 });
  try {
    const done = new Set(
      entries.length === 0
        ? []
        : (await db(REQUEUES).where({ dlq_topic: dlqTopic }).select('partition', 'offset')).map(
            (r: { partition: number; offset: number | string }) => `${r.partition}:${r.offset}`,
          ),
    );
    const already = o.again ? [] : entries.filter((e) => done.has(e.id));
    const orphan = entries.filter((e) => !e.source.topic);
    const todo = entries.filter((e) => e.source.topic && (o.again || !done.has(e.id)));
    if (o.dryRun) {
      process.stdout.write(
        `dry run: would requeue ${todo.length}, ${already.length} already requeued, ${orphan.length} without a source topic\n`,
      );
      for (const e of todo) process.stdout.write(`  ${e.id} → ${e.source.topic}\n`);
      return 0;
    }
    if (todo.length > 0) {
      const producer = new TallyProducer(kafka);
      await producer.connect();
      try {
        await producer.send(
          todo.map((e) => ({
            topic: e.source.topic,
            key: e.key?.toString('utf8') ?? null,
            value: e.value ?? Buffer.alloc(0),
            headers: requeueHeaders(e, dlqTopic),
          })),
        );
      } finally {
        await producer.disconnect();
      }
      await db(REQUEUES)
        .insert(
          todo.map((e) => ({
            dlq_topic: dlqTopic,
            partition: e.partition,
            offset: e.offset,
            target_topic: e.source.topic,
            reason: e.reason,
          })),
        )
        .onConflict(['dlq_topic', 'partition', 'offset'])
        .merge(['requeued_at']);
    }
    process.stdout.write(
      `requeued ${todo.length}, skipped ${already.length} already requeued (--again to resend)${orphan.length ? `, ${orphan.length} without a source topic header` : ''}\n`,
    );
    return orphan.length > 0 ? 1 : 0;
  } finally {
    await db.destroy();
  }
}
