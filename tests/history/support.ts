import { randomUUID } from 'node:crypto';
import { createTempDatabase, migrateLatest, type TempDatabase } from '@tally/db';
import { deadLetterTopic, eventDefinition, topicNames, type MovieViewed, type TopicNames } from '@tally/events';
import { ensureTopics, RegistryCodec } from '@tally/kafka';
import { env, eventually } from '../helpers/env';
import { kafka } from '../helpers/kafka';
import { ServiceProcess } from '../helpers/process';

/**
 * An isolated world for one history test file: its own TOPIC_PREFIX (topics, registry subjects), its
 * own consumer group and its own temp database, so nothing shared is touched and files run in parallel.
 */
export interface HistoryWorld {
  prefix: string;
  names: TopicNames;
  groupId: string;
  tmp: TempDatabase;
  viewed: string;
  downloaded: string;
  deadLetter: string;
  codec: RegistryCodec;
  schemaIds: { view: number; download: number };
}

export type Kind = 'view' | 'download';
export interface ProducedEvent {
  kind: Kind;
  // Views and downloads share this shape; the view's server-set repeat_view is left to its Avro default (false).
  value: Omit<MovieViewed, 'repeat_view'>;
}

export async function createWorld(): Promise<HistoryWorld> {
  const prefix = `t_${randomUUID().replace(/-/g, '').slice(0, 10)}.`;
  const names = topicNames(prefix);
  const tmp = await createTempDatabase(env.MYSQL_URL, 'tally_test_hist');
  await migrateLatest(tmp.db);
  const viewed = names.topicFor('movie.viewed');
  const downloaded = names.topicFor('movie.downloaded');
  const spec = (type: 'movie.viewed' | 'movie.downloaded') => ({
    topic: names.topicFor(type),
    partitions: eventDefinition(type).partitions,
    retentionMs: eventDefinition(type).retention_ms,
  });
  await ensureTopics(kafka, [
    spec('movie.viewed'),
    spec('movie.downloaded'),
    { topic: names.deadLetter, partitions: deadLetterTopic().partitions, retentionMs: deadLetterTopic().retention_ms },
  ]);
  const codec = new RegistryCodec(env.SCHEMA_REGISTRY_URL);
  const schemaIds = {
    view: await codec.register(names.subjectFor('movie.viewed'), eventDefinition('movie.viewed').avroSchema),
    download: await codec.register(names.subjectFor('movie.downloaded'), eventDefinition('movie.downloaded').avroSchema),
  };
  return {
    prefix,
    names,
    groupId: `history_${prefix.slice(2, -1)}`,
    tmp,
    viewed,
    downloaded,
    deadLetter: names.deadLetter,
    codec,
    schemaIds,
  };
}

export async function destroyWorld(w: HistoryWorld | undefined): Promise<void> {
  if (!w) return;
  await w.tmp.drop();
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.deleteTopics({ topics: [w.viewed, w.downloaded, w.deadLetter] }).catch(() => undefined);
  } finally {
    await admin.disconnect();
  }
}

/** Makes events with strictly increasing occurred_at (so "the latest view" is unambiguous in the oracle). */
export class EventFactory {
  private seq = 0;
  private readonly base = Date.now() - 6 * 3_600_000;

  make(kind: Kind, userId: number | null, javId: number): ProducedEvent {
    const occurred = this.base + this.seq++ * 3;
    return {
      kind,
      value: {
        event_id: randomUUID(),
        occurred_at: occurred,
        sent_at: occurred + 100,
        received_at: occurred + 150 + (this.seq % 7),
        user_id: userId,
        ip: `10.${this.seq % 200}.${(this.seq >> 8) % 250}.${(this.seq * 7) % 250}`,
        user_agent: this.seq % 13 === 0 ? null : `Mozilla/5.0 (hist-test ${this.seq})`,
        is_bot: false,
        jav_id: javId,
      },
    };
  }

  /** n events over `users` users and `movies` movies, ~15% guests, ~30% downloads; shuffled so topics carry them out of time order. */
  many(n: number, users: number, movies: number, firstUser = 1): ProducedEvent[] {
    const out: ProducedEvent[] = [];
    for (let i = 0; i < n; i++) {
      const r = (i * 2654435761) % 1000;
      const user = r < 150 ? null : firstUser + ((i * 31 + (i >> 4)) % users);
      out.push(this.make(i % 10 < 3 ? 'download' : 'view', user, 1 + ((i * 17 + (i >> 3)) % movies)));
    }
    for (let i = out.length - 1; i > 0; i--) {
      const j = (i * 7919 + 13) % (i + 1);
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  }
}

/** Avro-encodes and produces events (key = jav_id, like the ingest API); returns them in send order. */
export async function produceEvents(w: HistoryWorld, events: ProducedEvent[]): Promise<void> {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    for (let i = 0; i < events.length; i += 2_000) {
      const slice = events.slice(i, i + 2_000);
      const encoded = await Promise.all(
        slice.map(async (e) => ({ e, value: await w.codec.encode(e.kind === 'view' ? w.schemaIds.view : w.schemaIds.download, e.value) })),
      );
      await producer.sendBatch({
        acks: -1,
        topicMessages: (['view', 'download'] as const)
          .map((kind) => ({
            topic: kind === 'view' ? w.viewed : w.downloaded,
            messages: encoded.filter((x) => x.e.kind === kind).map((x) => ({ key: String(x.e.value.jav_id), value: x.value })),
          }))
          .filter((t) => t.messages.length > 0),
      });
    }
  } finally {
    await producer.disconnect();
  }
}

export interface HistoryRow {
  user_id: number;
  jav_id: number;
  view_count: number;
  first_viewed_at: number | null;
  last_viewed_at: number | null;
  ip: string | null;
  user_agent: string | null;
  downloaded: number;
  download_count: number;
  last_downloaded_at: number | null;
}

/** What user_jav_history must hold, recomputed from scratch from everything produced (distinct event_ids). */
export function expectedHistory(produced: ProducedEvent[]): HistoryRow[] {
  const rows = new Map<string, HistoryRow & { latest: number }>();
  const seen = new Set<string>();
  for (const { kind, value: e } of produced) {
    if (seen.has(e.event_id) || e.user_id === null) continue;
    seen.add(e.event_id);
    const key = `${e.user_id}:${e.jav_id}`;
    const row = rows.get(key) ?? {
      user_id: e.user_id,
      jav_id: e.jav_id,
      view_count: 0,
      first_viewed_at: null,
      last_viewed_at: null,
      ip: null,
      user_agent: null,
      downloaded: 0,
      download_count: 0,
      last_downloaded_at: null,
      latest: -1,
    };
    rows.set(key, row);
    if (kind === 'download') {
      row.downloaded = 1;
      row.download_count++;
      row.last_downloaded_at = Math.max(row.last_downloaded_at ?? 0, e.occurred_at);
    } else {
      row.view_count++;
      row.first_viewed_at = Math.min(row.first_viewed_at ?? Infinity, e.occurred_at);
      row.last_viewed_at = Math.max(row.last_viewed_at ?? 0, e.occurred_at);
      if (e.occurred_at > row.latest) Object.assign(row, { latest: e.occurred_at, ip: e.ip, user_agent: e.user_agent });
    }
  }
  return [...rows.values()].map(({ latest: _l, ...r }) => r).sort((a, b) => a.user_id - b.user_id || a.jav_id - b.jav_id);
}

const ms = (d: Date | null) => (d === null ? null : d.getTime());

export async function actualHistory(w: HistoryWorld): Promise<HistoryRow[]> {
  const rows = (await w.tmp
    .db('user_jav_history')
    .select(
      'user_id',
      'jav_id',
      'view_count',
      'first_viewed_at',
      'last_viewed_at',
      'ip',
      'user_agent',
      'downloaded',
      'download_count',
      'last_downloaded_at',
    )
    .orderBy([{ column: 'user_id' }, { column: 'jav_id' }])) as (Omit<
    HistoryRow,
    'first_viewed_at' | 'last_viewed_at' | 'last_downloaded_at'
  > &
    Record<'first_viewed_at' | 'last_viewed_at' | 'last_downloaded_at', Date | null>)[];
  return rows.map((r) => ({
    ...r,
    downloaded: Number(r.downloaded),
    first_viewed_at: ms(r.first_viewed_at),
    last_viewed_at: ms(r.last_viewed_at),
    last_downloaded_at: ms(r.last_downloaded_at),
  }));
}

/** Every row as stored, audit columns included: a replay must not even touch updated_at. */
export async function rawSnapshot(w: HistoryWorld): Promise<unknown[]> {
  return w.tmp.db('user_jav_history').select('*').orderBy('id');
}

export type Offsets = Map<string, bigint>; // "topic:partition" → offset

export async function highWatermarks(topics: string[]): Promise<Offsets> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const out: Offsets = new Map();
    for (const t of topics) for (const p of await admin.fetchTopicOffsets(t)) out.set(`${t}:${p.partition}`, BigInt(p.high));
    return out;
  } finally {
    await admin.disconnect();
  }
}

/** Committed offsets of the group (the next offset to read; -1 when never committed). */
export async function committedOffsets(groupId: string, topics: string[]): Promise<Offsets> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const out: Offsets = new Map();
    for (const t of await admin.fetchOffsets({ groupId, topics }))
      for (const p of t.partitions) out.set(`${t.topic}:${p.partition}`, BigInt(p.offset));
    return out;
  } finally {
    await admin.disconnect();
  }
}

/** consumer_progress: last applied offset per partition. */
export async function storedProgress(w: HistoryWorld): Promise<Offsets> {
  const rows = (await w.tmp.db('consumer_progress').where({ group_id: w.groupId }).select('topic', 'partition', 'offset')) as {
    topic: string;
    partition: number;
    offset: number;
  }[];
  return new Map(rows.map((r) => [`${r.topic}:${r.partition}`, BigInt(r.offset)]));
}

/** Waits until the group has committed every partition up to its high watermark (commits follow MySQL commits). */
export async function waitCaughtUp(w: HistoryWorld, timeoutMs = 60_000): Promise<void> {
  const topics = [w.viewed, w.downloaded];
  await eventually(
    async () => {
      const [high, committed] = await Promise.all([highWatermarks(topics), committedOffsets(w.groupId, topics)]);
      for (const [tp, h] of high) if (h > 0n && committed.get(tp) !== h) return undefined;
      return true;
    },
    timeoutMs,
    `group ${w.groupId} caught up`,
  );
}

export function startHistory(w: HistoryWorld, port: number, extra: Record<string, string> = {}): ServiceProcess {
  return new ServiceProcess('services/history/dist/main.js', {
    LOG_LEVEL: 'warn',
    MYSQL_URL: w.tmp.url,
    TOPIC_PREFIX: w.prefix,
    GROUP_ID: w.groupId,
    MANAGEMENT_PORT: String(port),
    ...extra,
  });
}

export async function waitReady(proc: ServiceProcess, port: number): Promise<void> {
  await proc.until(
    async () => ((await fetch(`http://127.0.0.1:${port}/readyz`)).ok ? true : undefined),
    45_000,
    `history ready on ${port}`,
  );
}

/** Sum of a counter over its label sets, read from the process's /metrics. */
export async function metricSum(port: number, name: string, labelFilter = ''): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || (line[name.length] !== '{' && line[name.length] !== ' ')) continue;
    if (labelFilter && !line.includes(labelFilter)) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}
