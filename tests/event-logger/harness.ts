import { execFileSync } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { AssignerProtocol, Partitioners } from 'kafkajs';
import type { Knex } from 'knex';
import { createTempDatabase, migrateLatest, RAW_EVENT_TABLES, type TempDatabase } from '@tally/db';
import { eventDefinition, keyFor, sampleOwnFields, topicNames, type EventType, type TallyEvent, type TopicNames } from '@tally/events';
import { RegistryCodec } from '@tally/kafka';
import { env, eventually, uniqueName } from '../helpers/env';
import { deleteTopics, kafka } from '../helpers/kafka';
import { endOffsets } from '../helpers/pipeline';

export { endOffsets };
import { ServiceProcess } from '../helpers/process';

// Shared by the event-logger test files. Each file gets its own topic prefix and its own database,
// so files run in parallel with each other and with whatever else uses the stack.

const ROOT = resolve(__dirname, '../..');

export interface Isolated {
  prefix: string;
  names: TopicNames;
  tmp: TempDatabase;
  /** Topics, registry subjects and the database go away. */
  cleanup(): Promise<void>;
}

export async function isolatedEnvironment(): Promise<Isolated> {
  const prefix = `t_${randomUUID().replace(/-/g, '').slice(0, 10)}.`;
  const names = topicNames(prefix);
  // `tally setup` is what production runs: the catalog's partitions and retention, schemas under the prefix.
  execFileSync(process.execPath, [resolve(ROOT, 'packages/cli/dist/bin.js'), 'setup'], {
    env: {
      TOPIC_PREFIX: prefix,
      KAFKA_BROKERS: env.KAFKA_BROKERS.join(','),
      SCHEMA_REGISTRY_URL: env.SCHEMA_REGISTRY_URL,
      LOG_LEVEL: 'warn',
    },
    stdio: 'pipe',
  });
  const tmp = await createTempDatabase(env.MYSQL_URL, 'tally_el_test');
  await migrateLatest(tmp.db);
  return {
    prefix,
    names,
    tmp,
    cleanup: async () => {
      await deleteTopics([...names.eventTopics, names.deadLetter]).catch(() => undefined);
      for (const t of names.eventTopics) {
        for (const q of ['', '?permanent=true'])
          await fetch(`${env.SCHEMA_REGISTRY_URL}/subjects/${t}-value${q}`, { method: 'DELETE' }).catch(() => undefined);
      }
      await tmp.drop();
    },
  };
}

/**
 * The per-file setup every test here shares: an isolated environment before the tests, and after
 * them every process the tests started killed and the environment removed.
 */
export function isolatedSuite(): { readonly iso: Isolated; readonly procs: ServiceProcess[] } {
  let iso: Isolated | undefined;
  const procs: ServiceProcess[] = [];
  beforeAll(async () => {
    iso = await isolatedEnvironment();
  }, 60_000);
  afterAll(async () => {
    await Promise.all(procs.map((p) => p.kill()));
    await iso?.cleanup();
  }, 60_000);
  return {
    get iso() {
      if (!iso) throw new Error('isolated environment not ready (use it inside tests)');
      return iso;
    },
    procs,
  };
}

/** The compiled service as a real process; waits until /readyz answers 200 unless told not to. */
export async function startEventLogger(
  iso: Isolated,
  port: number,
  extra: Record<string, string> = {},
  waitReady = true,
): Promise<ServiceProcess> {
  const proc = new ServiceProcess('services/event-logger/dist/main.js', {
    // A group of the suite's own: the default (tally-event-logger) is the live quick-start service's
    // group, and a member of it would be handed this suite's partitions and write them elsewhere.
    LOG_LEVEL: 'warn',
    MYSQL_URL: iso.tmp.url,
    TOPIC_PREFIX: iso.prefix,
    MANAGEMENT_PORT: String(port),
    SHUTDOWN_TIMEOUT: '20s',
    GROUP_ID: `event-logger-${iso.prefix}`,
    ...extra,
  });
  if (waitReady) {
    await proc.until(async () => ((await readyz(port)).status === 200 ? true : undefined), 45_000, `event-logger ready on :${port}`);
  }
  return proc;
}

export async function readyz(port: number): Promise<{ status: number; body: { ready?: boolean; checks?: Record<string, string> } }> {
  const res = await fetch(`http://127.0.0.1:${port}/readyz`);
  return { status: res.status, body: (await res.json()) as { ready?: boolean; checks?: Record<string, string> } };
}

export async function metricsText(port: number): Promise<string> {
  return (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
}

/** Sum of a counter over its label sets in Prometheus text, e.g. `tally_messages_processed_total`. */
export function counterSum(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n')) if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) sum += Number(line.split(' ').pop());
  return sum;
}

// ---------------------------------------------------------------------------------------------
// Events

const MOVIES = [11, 48213, 5120, 777, 90001, 3, 1234567];
const UAS = [
  'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0',
  'Googlebot/2.1 (+http://www.google.com/bot.html)',
  null,
];
const GROUPS = ['homepage-hero', 'weekly-picks', 'staff-favourites'];
const ITEM_TYPES = ['movie', 'actor', 'tag'] as const;

/** `perType` events of each event type: several movies and users, a third of them guests, bots, null UAs, filters. */
export function makeEvents(perType: number, types: readonly EventType[]): TallyEvent[] {
  const now = Date.now();
  const out: TallyEvent[] = [];
  let n = 0;
  for (let i = 0; i < perType; i++) {
    for (const [t, type] of types.entries()) {
      n++;
      // Round + type index, not n: every type gets guests and each user agent whatever the number of types.
      const mix = i + t;
      const guest = mix % 3 === 0;
      const ua = UAS[mix % UAS.length]!;
      const received = now - (n % 60_000);
      const base = {
        event_id: randomUUID(),
        occurred_at: received - (n % 5_000),
        sent_at: n % 4 === 0 ? null : received - 100,
        received_at: received,
        user_id: guest ? null : 1 + (n % 50),
        ip: guest ? `2001:db8::${(n % 4096).toString(16)}:1` : `198.51.100.${n % 250}`,
        user_agent: ua,
        is_bot: ua !== null && ua.startsWith('Googlebot'),
      };
      out.push(withBody(type, base, n, mix));
    }
  }
  return out;
}

function withBody(type: EventType, base: Record<string, unknown>, n: number, mix: number): TallyEvent {
  const jav_id = MOVIES[n % MOVIES.length]!;
  const featured = {
    item_type: ITEM_TYPES[n % 3]!,
    item_id: 1 + (n % 900),
    group: GROUPS[n % 3]!,
    rank: n % 12,
    active: n % 5 !== 0,
    expires_at: n % 2 === 0 ? null : (base.received_at as number) + 86_400_000 + n,
    admin_user_id: 1 + (n % 3),
  };
  // Varied values for the types that have them; any other type sends its sample's own fields.
  const body: Partial<Record<EventType, Record<string, unknown>>> = {
    'movie.viewed': { jav_id, repeat_view: mix % 4 === 1 },
    'movie.downloaded': { jav_id },
    'movie.liked': { jav_id },
    'movie.unliked': { jav_id },
    'movie.watchlisted': { jav_id },
    'movie.unwatchlisted': { jav_id },
    'movie.rated': { jav_id, rating: 1 + (n % 5) },
    'actor.viewed': { actor_id: 1 + (n % 300) },
    'tag.viewed': { tag_id: 1 + (n % 80) },
    'search.performed': {
      query: n % 7 === 0 ? '' : `query ${n} « 三上 »`,
      filters: n % 2 === 0 ? {} : { year: String(2000 + (n % 25)), studio: `S${n % 9}` },
      entity_type: ITEM_TYPES[n % 3],
      result_count: n % 1000,
    },
    'recommendation.clicked': { jav_id, reason: n % 2 === 0 ? 'same_actor' : 'similar_tags' },
    'featured.item.created': featured,
    'featured.item.updated': { ...featured, previous_group: n % 2 === 0 ? null : GROUPS[(n + 1) % 3] },
    'featured.item.removed': featured,
  };
  return { type, payload: { ...base, ...(body[type] ?? sampleOwnFields(type)) } } as unknown as TallyEvent;
}

/** Produces events straight to their topics (Avro, registry ids, catalog keys, murmur2 partitions), ≤ 500 per send. */
export async function produceEvents(names: TopicNames, events: readonly TallyEvent[]): Promise<void> {
  const codec = new RegistryCodec(env.SCHEMA_REGISTRY_URL);
  const ids = new Map<EventType, number>();
  for (const e of events)
    if (!ids.has(e.type)) ids.set(e.type, await codec.register(names.subjectFor(e.type), eventDefinition(e.type).avroSchema));
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  try {
    for (let i = 0; i < events.length; i += 500) {
      const byTopic = new Map<string, { key: string; value: Buffer }[]>();
      for (const e of events.slice(i, i + 500)) {
        const topic = names.topicFor(e.type);
        if (!byTopic.has(topic)) byTopic.set(topic, []);
        byTopic
          .get(topic)!
          .push({ key: keyFor(e), value: codec.encodeValidated(ids.get(e.type)!, eventDefinition(e.type).avroType, e.payload) });
      }
      await producer.sendBatch({ acks: -1, topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) });
    }
  } finally {
    await producer.disconnect();
  }
}

/** Posts events through the ingest API with a server key (so ip and user agent are ours), ≤ 500 per request. */
export async function postEvents(url: string, events: readonly TallyEvent[]): Promise<void> {
  for (let i = 0; i < events.length; i += 500) {
    const body = events.slice(i, i + 500).map((e) => {
      const { received_at: _r, is_bot: _b, repeat_view: _v, ...rest } = e.payload as unknown as Record<string, unknown>;
      return { type: e.type, ...rest };
    });
    const res = await fetch(`${url}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer sk-test' },
      body: JSON.stringify({ events: body }),
    });
    const answer = (await res.json()) as { accepted?: number; rejected?: number };
    if (res.status !== 202 || answer.rejected !== 0)
      throw new Error(`ingest answered ${res.status}: ${JSON.stringify(answer).slice(0, 500)}`);
  }
}

// ---------------------------------------------------------------------------------------------
// MySQL

/** Every logged event_id, across the 8 raw logs (duplicates kept, so a double write shows). */
export async function loggedIds(db: Knex): Promise<string[]> {
  const ids: string[] = [];
  for (const t of RAW_EVENT_TABLES) ids.push(...((await db(t).pluck('event_id')) as string[]));
  return ids;
}

export async function totalRows(db: Knex): Promise<number> {
  let n = 0;
  for (const t of RAW_EVENT_TABLES) n += Number(((await db(t).count({ n: '*' })) as { n: number }[])[0]!.n);
  return n;
}

/** Waits until the logs hold `count` rows in total (and not more). */
export async function waitForRows(db: Knex, count: number, timeoutMs = 60_000): Promise<void> {
  await eventually(
    async () => {
      const n = await totalRows(db);
      if (n > count) throw new Error(`${n} rows, more than the ${count} expected`);
      return n === count ? true : undefined;
    },
    timeoutMs,
    `${count} raw rows`,
  );
}

/** Exactly one row per expected event id, none other. */
export async function expectExactlyOnce(db: Knex, events: readonly TallyEvent[]): Promise<void> {
  const ids = await loggedIds(db);
  const seen = new Set<string>();
  const dupes = ids.filter((id) => (seen.has(id) ? true : (seen.add(id), false)));
  const want = new Set(events.map((e) => e.payload.event_id));
  const missing = [...want].filter((id) => !seen.has(id));
  const extra = [...seen].filter((id) => !want.has(id));
  if (dupes.length > 0 || missing.length > 0 || extra.length > 0 || ids.length !== events.length) {
    throw new Error(
      `${ids.length} rows for ${events.length} events; duplicated ${dupes.length} (${dupes.slice(0, 3).join(', ')}), ` +
        `missing ${missing.length} (${missing.slice(0, 3).join(', ')}), unexpected ${extra.length}`,
    );
  }
}

/** sha256 over every column of every row of the 8 logs, in id order (ids included: a rewrite shows). */
export async function logsDigest(db: Knex): Promise<{ rows: number; sha256: string }> {
  const hash = createHash('sha256');
  let rows = 0;
  for (const t of RAW_EVENT_TABLES) {
    for (const r of (await db(t).select('*').orderBy('id')) as Record<string, unknown>[]) {
      hash.update(t).update(JSON.stringify(r)).update('\n');
      rows++;
    }
  }
  return { rows, sha256: hash.digest('hex') };
}

// ---------------------------------------------------------------------------------------------
// Kafka group state

/** Committed offsets of a group, `topic:partition` → offset (−1 when none). */
export async function groupOffsets(groupId: string, topics: readonly string[]): Promise<Map<string, number>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const res = await admin.fetchOffsets({ groupId, topics: [...topics] });
    const m = new Map<string, number>();
    for (const t of res) for (const p of t.partitions) m.set(`${t.topic}:${p.partition}`, Number(p.offset));
    return m;
  } finally {
    await admin.disconnect();
  }
}

/** Waits until the group has committed every partition up to its end offset. */
export async function waitAllCommitted(groupId: string, topics: readonly string[], timeoutMs = 60_000): Promise<void> {
  const end = await endOffsets(topics);
  await eventually(
    async () => {
      const got = await groupOffsets(groupId, topics);
      for (const [tp, high] of end) if (high > 0 && got.get(tp) !== high) return undefined;
      return true;
    },
    timeoutMs,
    `group ${groupId} committed to the end`,
  );
}

/** Members of a consumer group with the partitions assigned to each. */
export async function groupMembers(groupId: string): Promise<{ state: string; members: { memberId: string; partitions: number }[] }> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const { groups } = await admin.describeGroups([groupId]);
    const g = groups[0]!;
    return {
      state: g.state,
      members: g.members.map((m) => {
        const a = AssignerProtocol.MemberAssignment.decode(m.memberAssignment);
        const partitions = a ? Object.values(a.assignment).reduce((s, ps) => s + ps.length, 0) : 0;
        return { memberId: m.memberId, partitions };
      }),
    };
  } finally {
    await admin.disconnect();
  }
}

export async function resetGroupToEarliest(groupId: string, topics: readonly string[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    for (const topic of topics) await admin.resetOffsets({ groupId, topic, earliest: true });
  } finally {
    await admin.disconnect();
  }
}

export { uniqueName };
