#!/usr/bin/env node
import { configOrExit } from '@tally/config';
import { createMysql, createRedis, readiness } from '@tally/clients';
import { topicNames, validateEvent } from '@tally/events';
import { runConsumerService } from '@tally/kafka';
import { COUNTED_TYPES, FEATURED_TYPES } from './handler';
import { loadCounterConfig } from './config';
import { CounterSink } from './sink';

const c = configOrExit('counter', () => loadCounterConfig());
const names = topicNames(c.TOPIC_PREFIX);
void runConsumerService<Record<string, unknown> & { event_id: string }>('counter', names.deadLetter, c, async ({ logger }) => {
  const redis = createRedis({ url: c.REDIS_URL, connectionName: 'tally-counter' });
  const db = createMysql({ url: c.MYSQL_URL, poolMax: 4 });
  const sink = new CounterSink(redis, db, names, { dedupTtlSeconds: c.DEDUP_WINDOW_SECONDS }, logger);
  return {
    resources: [
      { name: 'mysql', close: () => db.destroy() },
      { name: 'redis', close: () => redis.quit() },
    ],
    readiness: [readiness.redis(redis), readiness.mysql(db)],
    runner: {
      groupId: c.GROUP_ID,
      topics: [...COUNTED_TYPES, ...FEATURED_TYPES].map((t) => names.topicFor(t)),
      maxChunk: c.MAX_CHUNK,
      partitionsConsumedConcurrently: c.PARTITIONS_CONCURRENTLY,
      validate: (topic, value) => {
        const r = validateEvent(names.eventTypeFor(topic) ?? topic, value);
        return r.ok
          ? { ok: true, value: r.event.payload as unknown as Record<string, unknown> & { event_id: string } }
          : { ok: false, reason: 'invalid_payload', detail: r.errors.map((e) => `${e.field} ${e.reason}`).join('; ') };
      },
      handle: (batch) => sink.handle(batch),
      resumeFrom: (topic, partition) => sink.resumeFrom(topic, partition),
    },
  };
});
