import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Redis from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import type { Client as EsClient } from '@elastic/elasticsearch';
import { createElasticsearchClient, createMongo } from '@tally/clients';
import { createTempDatabase, migrateLatest, RAW_EVENT_TABLES, seedDemo, type RawEventTable, type TempDatabase } from '@tally/db';
import { TABLE_FOR_TYPE } from '@tally/event-logger/handler';
import { eventDefinition, eventDefinitions, sampleEvents, type EventType, type TopicNames } from '@tally/events';
import { RegistryCodec } from '@tally/kafka';
import { env, eventually, uniqueName } from '../helpers/env';
import { deleteTopics } from '../helpers/kafka';
import { LikeOracle } from '../helpers/likes';
import { PrivateServer, type PrivateKind } from './private-server';
import { endOffsets, isolatedTopics } from '../helpers/pipeline';
import { ServiceProcess } from '../helpers/process';
import { startIngest, testPort } from '../helpers/services';

// The fault suite's world: one isolated Tally pipeline per test file, driven as real processes.
//   - its own topics (TOPIC_PREFIX, created by `tally setup`) and dead-letter topic;
//   - its own MySQL database, migrated and seeded; its own Mongo database; its own index prefix;
//   - its own redis-server (so a scenario may kill it and start it again empty);
//   - the compiled ingest-api, event-logger, counter and history as child processes, and the jobs
//     (flusher, es-sync, snapshot-builder) run with --once.
// An oracle records every event the ingest API answered 202 for (by event_id) and every poison
// message injected; conserve() compares every store with it.

const ROOT = resolve(__dirname, '../..');

export type Consumer = 'event-logger' | 'counter' | 'history';
export const CONSUMERS: readonly Consumer[] = ['event-logger', 'counter', 'history'];
type Job = 'flusher' | 'es-sync' | 'snapshot-builder';
type Metric = 'views' | 'downloads' | 'likes';
const METRICS: readonly Metric[] = ['views', 'downloads', 'likes'];

const ENTRY: Record<Consumer | Job, string> = {
  'event-logger': 'services/event-logger/dist/main.js',
  counter: 'services/counter/dist/main.js',
  history: 'services/history/dist/main.js',
  flusher: 'services/flusher/dist/main.js',
  'es-sync': 'services/es-sync/dist/main.js',
  'snapshot-builder': 'services/snapshot-builder/dist/main.js',
};
// Port bases no other test directory uses (testPort adds pid % 500).
const PORT_BASE: Record<Consumer | Job | 'ingest' | 'redis', number> = {
  ingest: 30_000,
  'event-logger': 30_500,
  counter: 31_000,
  history: 31_500,
  redis: 10_000,
  flusher: 10_500,
  'es-sync': 11_000,
  'snapshot-builder': 11_500,
};

export const ALL_TYPES: readonly EventType[] = eventDefinitions().map((d) => d.type);
/** Which topics each consumer reads (the oracle's own copy of the services' bindings). */
export const CONSUMES: Record<Consumer, readonly EventType[]> = {
  'event-logger': ALL_TYPES,
  counter: [
    'movie.viewed',
    'movie.downloaded',
    'movie.liked',
    'movie.unliked',
    'movie.rated',
    'movie.watchlisted',
    'movie.unwatchlisted',
    'featured.item.created',
    'featured.item.updated',
    'featured.item.removed',
  ],
  history: ['movie.viewed', 'movie.downloaded'],
};
/** Raw log of each event type: the event-logger's own mapping (its unit and raw-log-columns tests check it against the schemas and MySQL). */
export const TABLE_OF: Readonly<Record<EventType, RawEventTable>> = TABLE_FOR_TYPE;
/** Counting rules (services/counter/src/handler.ts): bots never count. */
const EFFECT: Partial<Record<EventType, { metric: Metric; delta: 1 }>> = {
  'movie.viewed': { metric: 'views', delta: 1 },
  'movie.downloaded': { metric: 'downloads', delta: 1 },
};
// Likes are per user (the latest like/unlike by occurred_at wins): LikeOracle.

const BOT_UA = 'Googlebot/2.1 (+http://www.google.com/bot.html)';
const HUMAN_UA = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';

/** What a client POSTs: `type` plus the event's fields (server key: ip and user_agent allowed). */
export type ClientEvent = Record<string, unknown> & { type: EventType; event_id: string };

/** What the oracle keeps of an accepted event. */
interface Accepted {
  type: EventType;
  javId: number | null;
  userId: number | null;
  bot: boolean;
  /** As the ingest API stored it: like/unlike events are sent without sent_at, so no skew correction moves it. */
  occurredAt: number;
}

export type PoisonKind = 'random_bytes' | 'unknown_schema' | 'invalid_values';
const POISON_REASON: Record<PoisonKind, string> = {
  random_bytes: 'undecodable',
  unknown_schema: 'unknown_schema',
  invalid_values: 'invalid_payload',
};

export interface ConservationReport {
  /** Event submissions answered 202 (retries of one event included). */
  driven: number;
  /** Distinct event ids accepted. */
  accepted: number;
  rawRows: {
    expected: number;
    found: number;
    missing: number;
    duplicated: number;
    unexpected: number;
    /** The first missing event ids of each table, to look for in Kafka. */ missingIds: string[];
  };
  /** Counter effects (seed + accepted events) vs Redis before the flush, Redis after it, MySQL. */
  counts: { effects: number; lost: number; doubleCounted: number };
  history: { rows: number; mismatched: number };
  elasticsearch: { movies: number; mismatched: number };
  mongo: { mismatched: number };
  deadLetters: { expected: number; found: number; missing: number; unexpected: number };
  /** Every discrepancy in words (empty when everything is conserved). */
  problems: string[];
}

/** The part of the dashboard snapshot the suite reads. */
export interface Dashboard {
  top_movies: Record<string, Record<'by_views' | 'by_downloads', { jav_id: number; count: number }[]>>;
  dead_letters: { reason: string; count: number }[];
}

export interface WorldOptions {
  movies?: number;
  users?: number;
  /** Extra environment per consumer (e.g. a small MAX_CHUNK so a kill lands mid-batch). */
  consumerEnv?: Partial<Record<Consumer, Record<string, string>>>;
  /**
   * Servers this world runs privately (started with the stack script in a temp STACK_DIR) instead
   * of using the shared stack's, because the scenario stops, pauses or empties them.
   */
  privateServers?: readonly PrivateKind[];
}

/** A private redis-server on a port of this worker; `restartEmpty()` brings it back with no data. */
export class PrivateRedis {
  readonly port = testPort(PORT_BASE.redis);
  readonly url = `redis://127.0.0.1:${this.port}`;
  readonly client = new Redis(this.port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: null });
  private server: ChildProcess | undefined;
  private readonly dirs: string[] = [];
  /** How many times restartEmpty() ran. */
  restarts = 0;

  async start(): Promise<void> {
    const dir = mkdtempSync(join(tmpdir(), 'tally-faults-redis-'));
    this.dirs.push(dir);
    this.server = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    );
    await eventually(
      async () =>
        execFileSync('redis-cli', ['-p', String(this.port), 'ping'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() ===
        'PONG'
          ? true
          : undefined,
      10_000,
      `private redis on ${this.port}`,
    );
    if (this.client.status === 'wait') await this.client.connect();
  }

  /** SIGKILL (no save: persistence is off), then a fresh server on the same port: Redis comes back empty. */
  async restartEmpty(): Promise<void> {
    const runId = /run_id:(\w+)/.exec(await this.client.info('server'))?.[1];
    await this.kill();
    this.restarts++;
    await this.start();
    // The services may write to the new server first, so "empty" cannot be awaited; a new run_id can.
    await eventually(
      async () => (/run_id:(\w+)/.exec(await this.client.info('server'))?.[1] !== runId ? true : undefined),
      10_000,
      'client reconnected to the new redis',
    );
  }

  async kill(): Promise<void> {
    const s = this.server;
    if (s && s.exitCode === null && s.signalCode === null) {
      const exited = new Promise((r) => s.once('exit', r));
      s.kill('SIGKILL');
      await exited;
    }
  }

  async stop(): Promise<void> {
    this.client.disconnect();
    await this.kill();
    for (const d of this.dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  }
}

/** Sum of a Prometheus counter over its label sets. */
export function metricSum(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n')) if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) sum += Number(line.split(' ').pop());
  return sum;
}

export class World {
  names!: TopicNames;
  temp!: TempDatabase;
  readonly redis = new PrivateRedis();
  readonly mongoDbName = uniqueName('tally_faults');
  readonly esPrefix = `${uniqueName('faults')}_`;
  ingestUrl = '';
  movieIds: number[] = [];
  userIds: number[] = [];
  /** Oracle: every distinct event id answered 202 (or produced by the test itself). */
  readonly accepted = new Map<string, Accepted>();
  driven = 0;
  /** Poison produced, by topic and expected reason. */
  readonly poison: { type: EventType; reason: string }[] = [];
  /** Running or finished consumer processes, by `service` (instance 0) or `service#i`. */
  readonly procs = new Map<string, ServiceProcess>();
  /** The private servers of this world (see WorldOptions.privateServers). */
  readonly servers: Partial<Record<PrivateKind, PrivateServer>> = {};
  kafka!: Kafka;
  private ingest: ServiceProcess | undefined;
  private readonly finished: ServiceProcess[] = [];
  private seedCounts = new Map<string, number>();
  private seedHistory = new Map<string, { views: number; downloads: number }>();
  private es: EsClient | undefined;
  private mongo: ReturnType<typeof createMongo> | undefined;
  private codec!: RegistryCodec;
  private producer!: ReturnType<Kafka['producer']>;
  private producerConnected = false;
  private serial = 0;

  constructor(private readonly opts: WorldOptions = {}) {
    for (const k of opts.privateServers ?? []) this.servers[k] = new PrivateServer(k);
  }

  get prefix(): string {
    return this.names.prefix;
  }

  get kafkaBrokers(): string {
    return this.servers.kafka?.url ?? this.servers['kafka-cluster']?.url ?? env.KAFKA_BROKERS.join(',');
  }

  get mysqlUrl(): string {
    return this.servers.mariadb?.url ?? env.MYSQL_URL;
  }

  get registryUrl(): string {
    return this.servers.registry?.url ?? env.SCHEMA_REGISTRY_URL;
  }

  /** The addresses of this world's Kafka and registry, for processes and the CLI. */
  private serverEnv(): Record<string, string> {
    return { KAFKA_BROKERS: this.kafkaBrokers, SCHEMA_REGISTRY_URL: this.registryUrl };
  }

  /** Topics, database, seed, Redis, indices (es-sync --reindex) and the ingest API; no consumer yet. */
  async setup(): Promise<void> {
    // Private servers start in parallel (the JVMs take most of the time).
    await Promise.all(Object.values(this.servers).map((s) => s.up()));
    this.kafka = new Kafka({ clientId: 'tally-faults', brokers: this.kafkaBrokers.split(','), logLevel: logLevel.NOTHING });
    this.codec = new RegistryCodec(this.registryUrl);
    this.producer = this.kafka.producer({ idempotent: true });
    this.names = isolatedTopics(this.serverEnv());
    this.temp = await createTempDatabase(this.mysqlUrl, 'tally_faults');
    await migrateLatest(this.temp.db);
    await seedDemo(this.temp.db, { movies: this.opts.movies ?? 20, actors: 10, tags: 10, users: this.opts.users ?? 20, seed: 7 });
    this.movieIds = ((await this.temp.db('jav').pluck('id')) as number[]).map(Number).sort((a, b) => a - b);
    this.userIds = ((await this.temp.db('users').pluck('id')) as number[]).map(Number).sort((a, b) => a - b);
    for (const r of (await this.temp.db('jav').select('id', 'views', 'downloads', 'likes')) as Record<Metric | 'id', number>[]) {
      for (const m of METRICS) this.seedCounts.set(`${m}:${Number(r.id)}`, Number(r[m]));
    }
    for (const r of (await this.temp.db('user_jav_history').select('user_id', 'jav_id', 'view_count', 'download_count')) as Record<
      string,
      number
    >[]) {
      this.seedHistory.set(`${Number(r.user_id)}:${Number(r.jav_id)}`, {
        views: Number(r.view_count),
        downloads: Number(r.download_count),
      });
    }
    await this.redis.start();
    const reindex = await this.runJob('es-sync', ['--reindex']);
    if (reindex.code !== 0) throw new Error(`es-sync --reindex exited ${reindex.code}:\n${reindex.output}`);
    this.es = createElasticsearchClient({ url: env.ES_URL, flavor: env.ES_FLAVOR });
    const { proc, url } = await startIngest({ ...this.baseEnv(), PORT: String(testPort(PORT_BASE.ingest)) });
    this.ingest = proc;
    this.ingestUrl = url;
  }

  /** Environment every process of this world shares. */
  baseEnv(): Record<string, string> {
    const mongo = new URL(env.MONGO_URL);
    mongo.pathname = `/${this.mongoDbName}`;
    return {
      ...this.serverEnv(),
      LOG_LEVEL: 'warn',
      TOPIC_PREFIX: this.prefix,
      MYSQL_URL: this.temp.url,
      REDIS_URL: this.redis.url,
      MONGO_URL: mongo.toString(),
      ES_INDEX_PREFIX: this.esPrefix,
      KAFKA_SESSION_TIMEOUT: '6s',
      SHUTDOWN_TIMEOUT: '20s',
    };
  }

  groupOf(c: Consumer): string {
    return `${c}-${this.prefix}`;
  }

  /** Management port of instance `i` of a consumer (instances of one service sit side by side). */
  mgmtPort(c: Consumer, i = 0): number {
    return testPort(PORT_BASE[c]) + i;
  }

  private key(c: Consumer, i: number): string {
    return i === 0 ? c : `${c}#${i}`;
  }

  /** Spawns instance `i` of the consumer (all instances share the group) and waits for /readyz 200. */
  async start(c: Consumer, i = 0): Promise<ServiceProcess> {
    if (this.isRunning(c, i)) throw new Error(`${this.key(c, i)} is already running`);
    const proc = new ServiceProcess(ENTRY[c], {
      ...this.baseEnv(),
      GROUP_ID: this.groupOf(c),
      MANAGEMENT_PORT: String(this.mgmtPort(c, i)),
      ...this.opts.consumerEnv?.[c],
    });
    this.procs.set(this.key(c, i), proc);
    await this.waitReady(c, i, 60_000);
    return proc;
  }

  /** Waits until instance `i` answers /readyz 200 (it fails at once if the process exited). */
  async waitReady(c: Consumer, i = 0, timeoutMs = 60_000): Promise<void> {
    const proc = this.procs.get(this.key(c, i))!;
    await proc.until(async () => ((await this.readyz(c, i)) === 200 ? true : undefined), timeoutMs, `${this.key(c, i)} ready`);
  }

  /** /readyz status of instance `i` (0 when it does not answer). */
  async readyz(c: Consumer, i = 0): Promise<number> {
    try {
      return (await fetch(`http://127.0.0.1:${this.mgmtPort(c, i)}/readyz`, { signal: AbortSignal.timeout(5_000) })).status;
    } catch {
      return 0;
    }
  }

  async startAll(): Promise<void> {
    for (const c of CONSUMERS) await this.start(c);
  }

  isRunning(c: Consumer, i = 0): boolean {
    const p = this.procs.get(this.key(c, i));
    return p !== undefined && p.child.exitCode === null && p.child.signalCode === null;
  }

  /** Some instance of the consumer is running. */
  anyRunning(c: Consumer): boolean {
    return [...this.procs.entries()].some(
      ([k, p]) => (k === c || k.startsWith(`${c}#`)) && p.child.exitCode === null && p.child.signalCode === null,
    );
  }

  /** Sends `sig` and waits for the exit (SIGKILL: immediate; SIGTERM: within the shutdown deadline plus a margin). */
  async signal(c: Consumer, sig: NodeJS.Signals, i = 0): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    const p = this.procs.get(this.key(c, i));
    if (!p) throw new Error(`${this.key(c, i)} was never started`);
    p.signal(sig);
    const exit = await p.waitExit(30_000);
    this.finished.push(p);
    return exit;
  }

  async metrics(c: Consumer, i = 0): Promise<string> {
    return (await fetch(`http://127.0.0.1:${this.mgmtPort(c, i)}/metrics`)).text();
  }

  /** A runner metric of the consumer's current process, e.g. `messages_processed_total`. */
  async metric(c: Consumer, name: string, i = 0): Promise<number> {
    return metricSum(await this.metrics(c, i), `tally_${name}`);
  }

  // -------------------------------------------------------------------------------------------
  // Driving events

  /** `n` client events: mostly counted types over the seeded movies, a third guests, a sixth bots, every other type too. */
  makeEvents(n: number, types: readonly EventType[] = ALL_TYPES): ClientEvent[] {
    const samples = sampleEvents() as unknown as Record<EventType, Record<string, unknown>>;
    const weighted: EventType[] = [];
    for (const t of types) {
      const w = t === 'movie.viewed' ? 8 : t === 'movie.downloaded' || t === 'movie.liked' ? 3 : 1;
      for (let i = 0; i < w; i++) weighted.push(t);
    }
    const out: ClientEvent[] = [];
    const now = Date.now();
    for (let i = 0; i < n; i++) {
      const k = this.serial++;
      const type = weighted[k % weighted.length]!;
      const { received_at: _r, is_bot: _b, repeat_view: _v, event_id: _e, ...sample } = samples[type];
      const guest = k % 3 === 0;
      const fields: Record<string, unknown> = {
        ...sample,
        event_id: randomUUID(),
        occurred_at: now - 1_000,
        sent_at: now - 500,
        user_id: guest ? null : this.userIds[k % this.userIds.length]!,
        ip: `198.51.100.${k % 250}`,
        user_agent: k % 6 === 1 ? BOT_UA : HUMAN_UA,
      };
      if (type === 'movie.liked' || type === 'movie.unliked') {
        // Shuffled times within the last minute, and no sent_at: the ingest API then stores
        // occurred_at as sent (no skew correction), so the oracle knows which change is the latest.
        fields.occurred_at = now - 60_000 + ((k * 7919) % 50_000);
        fields.sent_at = null;
      }
      if ('jav_id' in sample) fields.jav_id = this.movieIds[(k * 7 + Math.floor(k / 17)) % this.movieIds.length]!;
      if ('expires_at' in sample) fields.expires_at = now + 86_400_000;
      out.push({ type, ...fields } as ClientEvent);
    }
    return out;
  }

  /** Every answer but 202 of `post`, as `<status> <error message>` (why a fault refused requests). */
  readonly refusals: string[] = [];

  /** POSTs one batch through the ingest API (server key); a 202 puts every accepted event id in the oracle. */
  async post(events: readonly ClientEvent[]): Promise<number> {
    const res = await fetch(`${this.ingestUrl}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer sk-test' },
      body: JSON.stringify({ events }),
    });
    const body = (await res.json()) as { events?: { index: number; event_id: string }[]; error?: { message: string } };
    if (res.status !== 202) this.refusals.push(`${res.status} ${body.error?.message ?? ''}`);
    if (res.status === 202) {
      for (const a of body.events ?? []) {
        const e = events[a.index]!;
        this.driven++;
        this.remember(a.event_id, e);
      }
    }
    return res.status;
  }

  private remember(eventId: string, e: Record<string, unknown> & { type: EventType }): void {
    if (this.accepted.has(eventId)) return;
    this.accepted.set(eventId, {
      type: e.type,
      javId: typeof e.jav_id === 'number' ? e.jav_id : null,
      userId: typeof e.user_id === 'number' ? e.user_id : null,
      bot: e.user_agent === BOT_UA,
      occurredAt: Number(e.occurred_at),
    });
  }

  /**
   * Posts `total` new events in batches, one request after another, with a short pause between
   * requests (load for a kill to land in, not a wait for a condition). `stop()` ends it early.
   */
  load(total: number, opts: { batch?: number; paceMs?: number } = {}): { done: Promise<void>; stop: () => void; posted: () => number } {
    const batch = opts.batch ?? 50;
    let stopped = false;
    let posted = 0;
    const run = async () => {
      while (!stopped && posted < total) {
        const events = this.makeEvents(Math.min(batch, total - posted));
        const status = await this.post(events);
        if (status !== 202) throw new Error(`ingest answered ${status} under load`);
        posted += events.length;
        await new Promise((r) => setTimeout(r, opts.paceMs ?? 25));
      }
    };
    return { done: run(), stop: () => (stopped = true), posted: () => posted };
  }

  /**
   * Produces fully enriched events straight to Kafka `copies` times each, as a producer retrying
   * without idempotence would (each copy its own record, same event_id); they join the oracle.
   */
  async produceCopies(events: readonly ClientEvent[], copies: number): Promise<void> {
    await this.connectProducer();
    const ids = new Map<EventType, number>();
    for (const e of events)
      if (!ids.has(e.type)) ids.set(e.type, await this.codec.register(this.names.subjectFor(e.type), eventDefinition(e.type).avroSchema));
    const now = Date.now();
    for (let c = 0; c < copies; c++) {
      const byTopic = new Map<string, { key: string; value: Buffer }[]>();
      for (const e of events) {
        const { type, ...fields } = e;
        const payload = { ...fields, received_at: now, is_bot: fields.user_agent === BOT_UA };
        const topic = this.names.topicFor(type);
        const list = byTopic.get(topic) ?? [];
        list.push({
          key: String(fields.jav_id ?? fields.event_id),
          value: this.codec.encodeValidated(ids.get(type)!, eventDefinition(type).avroType, payload),
        });
        byTopic.set(topic, list);
      }
      await this.producer.sendBatch({ acks: -1, topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) });
      for (const e of events) {
        this.driven++;
        this.remember(e.event_id, e);
      }
    }
  }

  /** One poison message of `kind` on the topic of `type`; every consumer of that topic must dead-letter it. */
  async injectPoison(type: EventType, kind: PoisonKind): Promise<{ topic: string; partition: number; offset: number }> {
    await this.connectProducer();
    let value: Buffer;
    if (kind === 'random_bytes') {
      value = Buffer.concat([Buffer.from([0xff]), randomBytes(40)]); // not the Confluent wire format (magic byte 0)
    } else if (kind === 'unknown_schema') {
      const head = Buffer.alloc(5);
      head.writeUInt32BE(2_000_000_000 + Math.floor(Math.random() * 100_000_000), 1);
      value = Buffer.concat([head, randomBytes(24)]);
    } else {
      // Valid Avro of the right schema, but an event_id no consumer may accept (a domain rule).
      const id = await this.codec.register(this.names.subjectFor(type), eventDefinition(type).avroSchema);
      const sample = (sampleEvents() as unknown as Record<EventType, Record<string, unknown>>)[type];
      value = this.codec.encodeValidated(id, eventDefinition(type).avroType, { ...sample, event_id: 'not-a-uuid' });
    }
    const topic = this.names.topicFor(type);
    const [meta] = await this.producer.send({ topic, acks: -1, messages: [{ key: `poison-${this.poison.length}`, value }] });
    this.poison.push({ type, reason: POISON_REASON[kind] });
    return { topic, partition: meta!.partition, offset: Number(meta!.baseOffset) };
  }

  private async connectProducer(): Promise<void> {
    if (!this.producerConnected) {
      await this.producer.connect();
      this.producerConnected = true;
    }
  }

  // -------------------------------------------------------------------------------------------
  // Progress

  /** Messages a consumer group still has to commit, over the topics it reads (what `tally lag` reports). */
  async lag(c: Consumer): Promise<number> {
    const topics = CONSUMES[c].map((t) => this.names.topicFor(t));
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const committed = await admin.fetchOffsets({ groupId: this.groupOf(c), topics });
      let lag = 0;
      for (const topic of topics) {
        const byPartition = new Map(
          (committed.find((t) => t.topic === topic)?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]),
        );
        for (const p of await admin.fetchTopicOffsets(topic)) {
          const at = byPartition.get(p.partition) ?? -1;
          lag += Number(p.high) - (at < 0 ? Number(p.low) : at);
        }
      }
      return lag;
    } finally {
      await admin.disconnect();
    }
  }

  /** Kafka's committed offsets of the consumer's group, `topic:partition` → next offset (−1: none). */
  async committedOffsets(c: Consumer): Promise<Map<string, number>> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const res = await admin.fetchOffsets({ groupId: this.groupOf(c), topics: CONSUMES[c].map((t) => this.names.topicFor(t)) });
      const m = new Map<string, number>();
      for (const t of res) for (const p of t.partitions) m.set(`${t.topic}:${p.partition}`, Number(p.offset));
      return m;
    } finally {
      await admin.disconnect();
    }
  }

  /**
   * Waits until the consumer is mid-stream: it has processed more than `processedAbove` messages and
   * still has a backlog — the moment a kill or signal lands "mid-batch under load".
   */
  async busyWithBacklog(c: Consumer, processedAbove = 0): Promise<{ processed: number; lag: number }> {
    return eventually(
      async () => {
        const processed = await this.metric(c, 'messages_processed_total');
        const lag = await this.lag(c);
        return processed > processedAbove && lag > 0 ? { processed, lag } : undefined;
      },
      60_000,
      `${c} processing with a backlog`,
    );
  }

  /** Every consumer running with lag 0. */
  async quiet(timeoutMs = 120_000): Promise<void> {
    for (const c of CONSUMERS) {
      if (!this.anyRunning(c)) {
        const last = this.procs.get(c);
        throw new Error(
          `${c} is not running: the pipeline cannot become quiet${last ? ` (exit ${last.child.exitCode ?? last.child.signalCode}; its output ends:\n${last.output.slice(-3_000)})` : ''}`,
        );
      }
      try {
        await eventually(async () => ((await this.lag(c)) === 0 ? true : undefined), timeoutMs, `${c} lag 0`);
      } catch (err) {
        // Which consumer stalled is in the error; why is in its own log, which is otherwise discarded.
        throw new Error(`${(err as Error).message}; ${c}'s output ends:\n${this.procs.get(c)?.output.slice(-4_000) ?? '(none)'}`);
      }
    }
  }

  /** `<job> --once [flags]` as a process; `instance` > 0 when several run at once (own management port). */
  spawnJob(job: Job, flags: string[] = [], opts: { env?: Record<string, string>; instance?: number } = {}): ServiceProcess {
    return new ServiceProcess(
      ENTRY[job],
      {
        ...this.baseEnv(),
        MANAGEMENT_PORT: String(testPort(PORT_BASE[job]) + (opts.instance ?? 0)),
        SETTLE_LAG: '0ms',
        DLQ_GROUP_PREFIX: `sb-dlq-${this.prefix}`,
        LOG_LEVEL: 'warn',
        ...opts.env,
      },
      ['--once', ...flags],
    );
  }

  /** `<job> --once [flags]` to its exit. */
  async runJob(
    job: Job,
    flags: string[] = [],
    opts: { env?: Record<string, string>; instance?: number } = {},
  ): Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }> {
    const p = this.spawnJob(job, flags, opts);
    const { code, signal } = await p.waitExit(120_000);
    return { code, signal, output: p.output };
  }

  /** `tally setup` for this world's prefix again: creates whatever topic is missing (idempotent). */
  setupTopics(): void {
    execFileSync(process.execPath, ['packages/cli/dist/bin.js', 'setup'], {
      cwd: ROOT,
      env: { ...process.env, ...this.serverEnv(), TOPIC_PREFIX: this.prefix },
      stdio: 'ignore',
    });
  }

  // -------------------------------------------------------------------------------------------
  // Conservation

  /** Expected display value per `metric:id`: seed + effects of the distinct accepted non-bot events. */
  expectedCounts(): Map<string, number> {
    const m = new Map(this.seedCounts);
    const likes = new LikeOracle();
    for (const [eventId, a] of this.accepted)
      likes.apply(a.type, { jav_id: a.javId, user_id: a.userId, occurred_at: a.occurredAt, event_id: eventId, is_bot: a.bot });
    for (const [javId, n] of likes.likes()) m.set(`likes:${javId}`, (m.get(`likes:${javId}`) ?? 0) + n);
    for (const a of this.accepted.values()) {
      const e = EFFECT[a.type];
      if (!e || a.bot || a.javId === null) continue;
      const k = `${e.metric}:${a.javId}`;
      m.set(k, (m.get(k) ?? 0) + e.delta);
    }
    return m;
  }

  /** Redis display values vs the oracle; a display key may be absent only for a movie nothing happened to. */
  async redisMismatches(when: string): Promise<{ lost: number; double: number; problems: string[] }> {
    const expected = this.expectedCounts();
    const keys = [...expected.keys()];
    const got = await this.redis.client.mget(...keys.map((k) => `jav:${k}`));
    const out = { lost: 0, double: 0, problems: [] as string[] };
    keys.forEach((k, i) => {
      const want = expected.get(k)!;
      const v = got[i];
      if (v === null || v === undefined) {
        // Not cached is acceptable only after Redis was emptied (the reader falls back to MySQL).
        if (want !== this.seedCounts.get(k) && this.redis.restarts === 0)
          out.problems.push(`redis ${when}: jav:${k} missing, expected ${want}`);
        return;
      }
      const diff = Number(v) - want;
      if (diff !== 0) out.problems.push(`redis ${when}: jav:${k} = ${v}, expected ${want}`);
      if (diff > 0) out.double += diff;
      else out.lost -= diff;
    });
    return out;
  }

  /**
   * Waits for the pipeline to be quiet, runs flusher, es-sync and snapshot-builder once each, and
   * compares every store with the oracle. Returns the report; `expectConserved` asserts it.
   */
  async conserve(): Promise<ConservationReport> {
    await this.quiet();
    const problems: string[] = [];
    const report: ConservationReport = {
      driven: this.driven,
      accepted: this.accepted.size,
      rawRows: { expected: this.accepted.size, found: 0, missing: 0, duplicated: 0, unexpected: 0, missingIds: [] },
      counts: { effects: 0, lost: 0, doubleCounted: 0 },
      history: { rows: 0, mismatched: 0 },
      elasticsearch: { movies: 0, mismatched: 0 },
      mongo: { mismatched: 0 },
      deadLetters: { expected: 0, found: 0, missing: 0, unexpected: 0 },
      problems,
    };

    // Counter: Redis display values before any flush (the flusher re-aligns noted re-seeds, which could hide a miscount).
    const before = await this.redisMismatches('before flush');
    for (const a of this.accepted.values())
      if ((EFFECT[a.type] || (a.userId !== null && (a.type === 'movie.liked' || a.type === 'movie.unliked'))) && !a.bot)
        report.counts.effects++;

    // Raw logs: one row per accepted event id, in its table.
    const wantByTable = new Map<string, Set<string>>(RAW_EVENT_TABLES.map((t) => [t, new Set<string>()]));
    for (const [id, a] of this.accepted) wantByTable.get(TABLE_OF[a.type])!.add(id.toLowerCase());
    for (const [table, want] of wantByTable) {
      const ids = ((await this.temp.db(table).pluck('event_id')) as string[]).map((s) => s.toLowerCase());
      const seen = new Set<string>();
      let dup = 0;
      for (const id of ids) {
        if (seen.has(id)) dup++;
        else seen.add(id);
      }
      const missingIds = [...want].filter((id) => !seen.has(id));
      const missing = missingIds.length;
      report.rawRows.missingIds.push(...missingIds.slice(0, 20));
      const unexpected = [...seen].filter((id) => !want.has(id)).length;
      report.rawRows.found += ids.length;
      report.rawRows.missing += missing;
      report.rawRows.duplicated += dup;
      report.rawRows.unexpected += unexpected;
      if (missing || dup || unexpected)
        problems.push(
          `${table}: ${ids.length} rows for ${want.size} events; missing ${missing}, duplicated ${dup}, unexpected ${unexpected}`,
        );
    }

    // History: per (user, movie) of logged-in users, views and downloads (bots included: history is what the account did).
    const wantHistory = new Map<string, { views: number; downloads: number }>();
    for (const [k, v] of this.seedHistory) wantHistory.set(k, { ...v });
    for (const a of this.accepted.values()) {
      if (a.userId === null || a.javId === null || (a.type !== 'movie.viewed' && a.type !== 'movie.downloaded')) continue;
      const k = `${a.userId}:${a.javId}`;
      const h = wantHistory.get(k) ?? { views: 0, downloads: 0 };
      if (a.type === 'movie.viewed') h.views++;
      else h.downloads++;
      wantHistory.set(k, h);
    }
    const gotHistory = new Map<string, { views: number; downloads: number }>();
    for (const r of (await this.temp.db('user_jav_history').select('user_id', 'jav_id', 'view_count', 'download_count')) as Record<
      string,
      number
    >[]) {
      gotHistory.set(`${Number(r.user_id)}:${Number(r.jav_id)}`, { views: Number(r.view_count), downloads: Number(r.download_count) });
    }
    report.history.rows = wantHistory.size;
    for (const k of new Set([...wantHistory.keys(), ...gotHistory.keys()])) {
      const w = wantHistory.get(k) ?? { views: 0, downloads: 0 };
      const g = gotHistory.get(k) ?? { views: 0, downloads: 0 };
      if (w.views !== g.views || w.downloads !== g.downloads) {
        report.history.mismatched++;
        if (report.history.mismatched <= 5) problems.push(`user_jav_history ${k}: ${JSON.stringify(g)}, expected ${JSON.stringify(w)}`);
      }
    }

    // Flush, then MySQL and Redis again.
    const flush = await this.runJob('flusher');
    if (flush.code !== 0) problems.push(`flusher --once exited ${flush.code}: ${flush.output.slice(-2000)}`);
    const after = await this.redisMismatches('after flush');
    const expected = this.expectedCounts();
    const mysql = await this.mysqlCounts();
    let sqlLost = 0;
    let sqlDouble = 0;
    for (const [k, want] of expected) {
      const got = mysql.get(k);
      if (got !== want) {
        problems.push(`mysql jav ${k} = ${got}, expected ${want}`);
        if ((got ?? 0) > want) sqlDouble += (got ?? 0) - want;
        else sqlLost += want - (got ?? 0);
      }
    }
    problems.push(...before.problems.slice(0, 10), ...after.problems.slice(0, 10));
    report.counts.lost = Math.max(before.lost, after.lost, sqlLost);
    report.counts.doubleCounted = Math.max(before.double, after.double, sqlDouble);

    // Elasticsearch = MySQL after one es-sync run.
    const sync = await this.runJob('es-sync');
    if (sync.code !== 0) problems.push(`es-sync --once exited ${sync.code}: ${sync.output.slice(-2000)}`);
    const es = await this.esCounts();
    report.elasticsearch.movies = es.size / METRICS.length;
    for (const [k, want] of mysql) {
      if (es.get(k) !== want) {
        report.elasticsearch.mismatched++;
        if (report.elasticsearch.mismatched <= 5) problems.push(`elasticsearch ${k} = ${es.get(k)}, MySQL ${want}`);
      }
    }

    // MongoDB dashboard = SQL recomputation (all-time tops from jav; 30-day tops from the oracle's non-bot events).
    const snap = await this.runJob('snapshot-builder');
    if (snap.code !== 0) problems.push(`snapshot-builder --once exited ${snap.code}: ${snap.output.slice(-2000)}`);
    report.mongo.mismatched = await this.mongoMismatches(problems);

    // Dead letters: each poison message once per consumer reading its topic, with the expected reason.
    const dl = await this.deadLetterMismatches(problems);
    report.deadLetters = dl;
    return report;
  }

  private async mysqlCounts(): Promise<Map<string, number>> {
    const m = new Map<string, number>();
    for (const r of (await this.temp.db('jav').select('id', 'views', 'downloads', 'likes')) as Record<Metric | 'id', number>[]) {
      for (const metric of METRICS) m.set(`${metric}:${Number(r.id)}`, Number(r[metric]));
    }
    return m;
  }

  private async esCounts(): Promise<Map<string, number>> {
    const index = `${this.esPrefix}jav`;
    await this.es!.indices.refresh({ index });
    const res = await this.es!.search<Record<Metric, number>>({ index, size: 10_000, _source: [...METRICS], query: { match_all: {} } });
    const m = new Map<string, number>();
    for (const h of res.hits.hits) for (const metric of METRICS) m.set(`${metric}:${Number(h._id)}`, Number(h._source![metric]));
    return m;
  }

  /** The dashboard snapshot snapshot-builder stored in this world's Mongo database. */
  async dashboard(): Promise<Dashboard | null> {
    this.mongo ??= createMongo({ url: this.baseEnv().MONGO_URL! });
    return (await this.mongo
      .db()
      .collection<{ _id: string }>('analytics_snapshots')
      .findOne({ _id: 'dashboard' })) as unknown as Dashboard | null;
  }

  private async mongoMismatches(problems: string[]): Promise<number> {
    const doc = await this.dashboard();
    if (!doc) {
      problems.push('mongo: no dashboard snapshot');
      return 1;
    }
    let bad = 0;
    const compare = (what: string, got: { jav_id: number; count: number }[], want: { jav_id: number; count: number }[]) => {
      const g = JSON.stringify(got.map((x) => [x.jav_id, x.count]));
      const w = JSON.stringify(want.map((x) => [x.jav_id, x.count]));
      if (g !== w) {
        bad++;
        problems.push(`mongo ${what}: ${g.slice(0, 300)} expected ${w.slice(0, 300)}`);
      }
    };
    for (const metric of ['views', 'downloads'] as const) {
      const [rows] = (await this.temp.db.raw(
        `SELECT id AS jav_id, ${metric} AS count FROM jav WHERE ${metric} > 0 ORDER BY ${metric} DESC, id ASC LIMIT 50`,
      )) as [Record<string, number>[]];
      compare(
        `all.by_${metric}`,
        doc.top_movies.all![`by_${metric}`],
        rows.map((r) => ({ jav_id: Number(r.jav_id), count: Number(r.count) })),
      );
      // 30 days: every accepted event occurred within it; bots are left out, as the counters leave them out.
      const type: EventType = metric === 'views' ? 'movie.viewed' : 'movie.downloaded';
      const per = new Map<number, number>();
      for (const a of this.accepted.values())
        if (a.type === type && !a.bot && a.javId !== null) per.set(a.javId, (per.get(a.javId) ?? 0) + 1);
      const want = [...per]
        .map(([jav_id, count]) => ({ jav_id, count }))
        .sort((x, y) => y.count - x.count || x.jav_id - y.jav_id)
        .slice(0, 50);
      compare(`30d.by_${metric}`, doc.top_movies['30d']![`by_${metric}`], want);
    }
    return bad;
  }

  private async deadLetterMismatches(problems: string[]): Promise<ConservationReport['deadLetters']> {
    const want = new Map<string, number>();
    for (const p of this.poison) {
      for (const c of CONSUMERS) {
        if (!CONSUMES[c].includes(p.type)) continue;
        const k = `${c} ${this.names.topicFor(p.type)} ${p.reason}`;
        want.set(k, (want.get(k) ?? 0) + 1);
      }
    }
    const records = await this.readDeadLetters();
    const got = new Map<string, number>();
    for (const r of records) {
      const k = `${r['tally-dlq-service']} ${r['tally-dlq-topic']} ${r['tally-dlq-reason']}`;
      got.set(k, (got.get(k) ?? 0) + 1);
    }
    const out = { expected: [...want.values()].reduce((a, b) => a + b, 0), found: records.length, missing: 0, unexpected: 0 };
    for (const k of new Set([...want.keys(), ...got.keys()])) {
      const d = (got.get(k) ?? 0) - (want.get(k) ?? 0);
      if (d > 0) out.unexpected += d;
      if (d < 0) out.missing -= d;
      if (d !== 0) problems.push(`dead letters "${k}": ${got.get(k) ?? 0}, expected ${want.get(k) ?? 0}`);
    }
    return out;
  }

  /** Headers of every record on the dead-letter topic, up to its end offsets. */
  async readDeadLetters(): Promise<Record<string, string>[]> {
    const topic = this.names.deadLetter;
    const ends = await endOffsets([topic], this.kafka);
    const total = [...ends.values()].reduce((a, b) => a + b, 0);
    const out: Record<string, string>[] = [];
    if (total === 0) return out;
    const consumer = this.kafka.consumer({ groupId: uniqueName('faults-dlq-reader') });
    const reached = new Map<number, number>();
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ partition, message }) => {
          const h: Record<string, string> = {};
          for (const [k, v] of Object.entries(message.headers ?? {})) if (v !== undefined && !Array.isArray(v)) h[k] = v.toString();
          out.push(h);
          reached.set(partition, Number(message.offset) + 1);
        },
      });
      await eventually(
        async () => {
          for (const [tp, end] of ends) if (end > 0 && (reached.get(Number(tp.split(':').pop())) ?? 0) < end) return undefined;
          return true;
        },
        30_000,
        `dead letters read to the end (${total})`,
      );
      return out;
    } finally {
      await consumer.disconnect();
    }
  }

  // -------------------------------------------------------------------------------------------

  /** Kills every process of the world and removes what it created (topics, subjects, database, indices, Mongo database). */
  async destroy(): Promise<void> {
    await Promise.all([...this.procs.values()].map((p) => p.kill()));
    await this.ingest?.kill();
    if (this.producerConnected) await this.producer.disconnect().catch(() => undefined);
    await this.redis.stop();
    if (this.names && this.kafka) {
      if (!this.servers.kafka && !this.servers['kafka-cluster'])
        await deleteTopics([...this.names.eventTopics, this.names.deadLetter], this.kafka).catch(() => undefined);
      for (const t of this.names.eventTopics) {
        for (const q of ['', '?permanent=true'])
          await fetch(`${this.registryUrl}/subjects/${t}-value${q}`, { method: 'DELETE' }).catch(() => undefined);
      }
    }
    if (this.es) {
      const mine = Object.keys(
        await this.es.indices.get({ index: `${this.esPrefix}*`, allow_no_indices: true, expand_wildcards: 'all' }).catch(() => ({})),
      );
      for (const index of mine) if (index.startsWith(this.esPrefix)) await this.es.indices.delete({ index }).catch(() => undefined);
      await this.es.close();
    }
    if (this.mongo) {
      await this.mongo
        .db()
        .dropDatabase()
        .catch(() => undefined);
      await this.mongo.close();
    }
    await this.temp?.drop().catch(() => undefined);
    await Promise.all(Object.values(this.servers).map((s) => s.destroy()));
  }
}

/** Asserts a conservation report: nothing lost, nothing counted twice, every store agrees. */
export function expectConserved(r: ConservationReport): void {
  expect(r.problems).toEqual([]);
  expect(r.rawRows).toEqual({ expected: r.accepted, found: r.accepted, missing: 0, duplicated: 0, unexpected: 0, missingIds: [] });
  expect(r.counts.lost).toBe(0);
  expect(r.counts.doubleCounted).toBe(0);
  expect(r.history.mismatched).toBe(0);
  expect(r.elasticsearch.mismatched).toBe(0);
  expect(r.mongo.mismatched).toBe(0);
  expect(r.deadLetters.missing).toBe(0);
  expect(r.deadLetters.unexpected).toBe(0);
  expect(r.deadLetters.found).toBe(r.deadLetters.expected);
}

/**
 * One line for the test log: what was driven and what was lost or doubled. With TALLY_FAULT_REPORT
 * set (scripts/test-faults.sh), the report is also appended there as a JSON line for the README figure.
 */
export function summary(name: string, r: ConservationReport): string {
  const file = process.env.TALLY_FAULT_REPORT;
  if (file) {
    appendFileSync(
      file,
      `${JSON.stringify({
        name,
        driven: r.driven,
        accepted: r.accepted,
        rawMissing: r.rawRows.missing,
        rawDuplicated: r.rawRows.duplicated,
        lost: r.counts.lost,
        doubleCounted: r.counts.doubleCounted,
        mismatched: r.history.mismatched + r.elasticsearch.mismatched + r.mongo.mismatched,
        deadLetters: r.deadLetters.found,
        deadLettersExpected: r.deadLetters.expected,
        problems: r.problems.length,
      })}\n`,
    );
  }
  return (
    `${name}: driven ${r.driven}, accepted ${r.accepted}, raw rows ${r.rawRows.found} (missing ${r.rawRows.missing}, duplicated ${r.rawRows.duplicated}), ` +
    `counter effects ${r.counts.effects} (lost ${r.counts.lost}, double-counted ${r.counts.doubleCounted}), history rows ${r.history.rows} (mismatched ${r.history.mismatched}), ` +
    `es movies ${r.elasticsearch.movies} (mismatched ${r.elasticsearch.mismatched}), mongo mismatched ${r.mongo.mismatched}, ` +
    `dead letters ${r.deadLetters.found}/${r.deadLetters.expected}`
  );
}

/** Per-file lifecycle: a fresh world before the tests, everything removed after. */
export function faultWorld(opts: WorldOptions = {}): { readonly world: World } {
  const world = new World(opts);
  beforeAll(async () => {
    await world.setup();
  }, 400_000);
  afterAll(async () => {
    await world.destroy();
  }, 60_000);
  return { world };
}
