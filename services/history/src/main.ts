#!/usr/bin/env node
import { readiness, createMysql } from '@tally/clients';
import { configOrExit } from '@tally/config';
import { topicNames, validateEvent, type EventType } from '@tally/events';
import { runConsumerService, type Validation } from '@tally/kafka';
import { loadHistoryConfig } from './config';
import type { HistoryEvent, HistoryKind } from './handler';
import { HistorySink } from './sink';

const KINDS: Record<HistoryKind, EventType> = { view: 'movie.viewed', download: 'movie.downloaded' };

/** Wiring only: config → MySQL → sink → the shared consumer service (runner, management server, signals). */
async function main(): Promise<void> {
  const config = configOrExit('history', () => loadHistoryConfig());
  const names = topicNames(config.TOPIC_PREFIX);
  const kindByTopic = new Map<string, HistoryKind>(
    (Object.entries(KINDS) as [HistoryKind, EventType][]).map(([kind, type]) => [names.topicFor(type), kind]),
  );
  const kindOf = (topic: string): HistoryKind => {
    const kind = kindByTopic.get(topic);
    if (!kind) throw new Error(`history does not consume ${topic}`);
    return kind;
  };
  const validate = (topic: string, value: unknown): Validation<HistoryEvent> => {
    const r = kindOf(topic) === 'view' ? validateEvent('movie.viewed', value) : validateEvent('movie.downloaded', value);
    if (r.ok) return { ok: true, value: r.event.payload };
    return { ok: false, reason: r.errors.map((e) => e.field).join(','), detail: r.errors.map((e) => `${e.field} ${e.reason}`).join('; ') };
  };

  await runConsumerService<HistoryEvent>('history', names.deadLetter, config, async ({ metrics }) => {
    // One connection per partition in flight, plus one for readiness probes.
    const db = createMysql({ url: config.MYSQL_URL, poolMax: config.PARTITION_CONCURRENCY + 1 });
    const sink = new HistorySink(db, config.GROUP_ID, kindOf, metrics);
    return {
      resources: [{ name: 'mysql', close: () => db.destroy() }],
      readiness: [readiness.mysql(db)],
      runner: {
        groupId: config.GROUP_ID,
        topics: [...kindByTopic.keys()],
        handle: (batch) => sink.apply(batch),
        validate,
        maxChunk: config.MAX_CHUNK,
        partitionsConsumedConcurrently: config.PARTITION_CONCURRENCY,
      },
    };
  });
}

void main();
