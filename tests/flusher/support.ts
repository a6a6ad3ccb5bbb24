import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { createTempDatabase, migrateLatest, seedDemo, type TempDatabase } from '@tally/db';
import type { EventType, TopicNames } from '@tally/events';
import { env, eventually } from '../helpers/env';
import { EventProducer, endOffsets, isolatedTopics, makeEvent } from '../helpers/pipeline';
import { ServiceProcess } from '../helpers/process';
import { testPort } from '../helpers/services';
import { LikeOracle } from '../helpers/likes';

export const METRICS = ['views', 'downloads', 'likes', 'rating_count', 'rating_sum', 'watchlists'] as const;
export type Metric = (typeof METRICS)[number];
type Counts = Record<Metric, number>;
const COUNTED: EventType[] = [
  'movie.viewed',
  'movie.downloaded',
  'movie.liked',
  'movie.unliked',
  'movie.rated',
  'movie.watchlisted',
  'movie.unwatchlisted',
];

/** A private redis-server (so a test may empty it or restart it), started on a port of this worker. */
export class PrivateRedis {
  readonly port: number;
  readonly url: string;
  private server: ChildProcess | undefined;
  readonly client: Redis;

  constructor(base: number) {
    this.port = testPort(base);
    this.url = `redis://127.0.0.1:${this.port}`;
    this.client = new Redis(this.port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: null });
  }

  async start(): Promise<void> {
    this.server = spawn(
      'redis-server',
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--dir',
        mkdtempSync(join(tmpdir(), 'tally-flusher-redis-')),
        '--save',
        '',
        '--appendonly',
        'no',
      ],
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

  async stop(): Promise<void> {
    this.client.disconnect();
    this.server?.kill('SIGKILL');
  }
}

/**
 * One isolated pipeline for a flusher test file: its own topics (TOPIC_PREFIX), MySQL database and
 * redis-server, the real counter consuming real events, and an oracle of what was produced.
 */
export class FlusherWorld {
  names!: TopicNames;
  temp!: TempDatabase;
  producer!: EventProducer;
  readonly redis: PrivateRedis;
  initial = new Map<number, Counts>();
  /** Effect of the distinct, non-bot events produced: `${metric}:${id}` → delta. */
  /** Views and downloads per `metric:id`; likes come from the per-user oracle (expectedDelta). */
  readonly expected = new Map<string, number>();
  readonly likes = new LikeOracle();

  /** The expected change of `metric:id` since the seed. */
  expectedDelta(field: string): number {
    const metric = field.split(':')[0];
    return metric === 'views' || metric === 'downloads' ? (this.expected.get(field) ?? 0) : (this.likes.figures().get(field) ?? 0);
  }
  private readonly procs: ServiceProcess[] = [];
  private seq = 0;

  constructor(
    readonly movies: number,
    private readonly portBase: number,
  ) {
    this.redis = new PrivateRedis(portBase);
  }

  async setup(): Promise<void> {
    this.names = isolatedTopics();
    this.temp = await createTempDatabase(env.MYSQL_URL, 'tally_flusher');
    await migrateLatest(this.temp.db);
    await seedDemo(this.temp.db, { movies: this.movies, actors: 5, tags: 5, users: 20, seed: 11 });
    this.initial = await this.mysqlCounts();
    await this.redis.start();
    this.producer = new EventProducer(this.names);
    await this.producer.connect();
  }

  async teardown(): Promise<void> {
    await Promise.all(this.procs.map((p) => p.kill()));
    await this.producer?.disconnect();
    await this.redis.stop();
    await this.temp?.drop();
  }

  startCounter(): ServiceProcess {
    const n = this.procs.length % 100;
    return this.track(
      new ServiceProcess('services/counter/dist/main.js', {
        TOPIC_PREFIX: this.names.prefix,
        MYSQL_URL: this.temp.url,
        REDIS_URL: this.redis.url,
        MANAGEMENT_PORT: String(testPort(this.portBase + 500) + n),
        LOG_LEVEL: 'warn',
        MAX_CHUNK: '200',
        GROUP_ID: `counter-${this.names.prefix}`,
        KAFKA_SESSION_TIMEOUT: '6s',
      }),
    );
  }

  /** The flusher as a process; `--once` unless other args are given. */
  flusher(extra: Record<string, string> = {}, args: string[] = ['--once']): ServiceProcess {
    return this.track(
      new ServiceProcess(
        'services/flusher/dist/main.js',
        { MYSQL_URL: this.temp.url, REDIS_URL: this.redis.url, LOG_LEVEL: 'warn', ...extra },
        args,
      ),
    );
  }

  async flushOnce(extra: Record<string, string> = {}): Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }> {
    const p = this.flusher(extra);
    const exit = await p.waitExit(60_000);
    return { ...exit, output: p.output };
  }

  /** Views, downloads, likes and unlikes over all movies; some bots (never counted), some client retries (counted once). */
  async produceMix(n: number): Promise<void> {
    const types: EventType[] = [
      'movie.viewed',
      'movie.viewed',
      'movie.downloaded',
      'movie.liked',
      'movie.unliked',
      'movie.rated',
      'movie.watchlisted',
      'movie.unwatchlisted',
    ];
    const batch: { type: EventType; value: Record<string, unknown> }[] = [];
    for (let k = 0; k < n; k++) {
      const i = this.seq++;
      const type = types[i % types.length]!;
      const javId = 1 + ((i * 7) % this.movies);
      const isBot = i % 50 === 0;
      const value = makeEvent(type, {
        jav_id: javId,
        is_bot: isBot,
        user_id: i % 3 === 0 ? null : 1 + (i % 20),
        occurred_at: Date.now() - 60_000 + ((i * 7919) % 50_000),
        ...(type === 'movie.rated' ? { rating: 1 + (i % 5) } : {}),
      });
      batch.push({ type, value });
      if (i % 97 === 0) batch.push({ type, value }); // the client retried: same event id, next offset
      this.likes.apply(type, value);
      if (!isBot && (type === 'movie.viewed' || type === 'movie.downloaded')) {
        const key = `${type === 'movie.viewed' ? 'views' : 'downloads'}:${javId}`;
        this.expected.set(key, (this.expected.get(key) ?? 0) + 1);
      }
      if (batch.length >= 500) await this.producer.send(batch.splice(0));
    }
    if (batch.length) await this.producer.send(batch.splice(0));
  }

  /** The counter has counted everything produced: per partition, its progress (Redis, else MySQL) is at the end. */
  async caughtUp(): Promise<void> {
    const ends = await endOffsets(COUNTED.map((t) => this.names.topicFor(t)));
    await eventually(
      async () => {
        const applied = await this.redis.client.hgetall('tally:counter:applied');
        const flushed = new Map(
          (
            (await this.temp.db('counter_offsets').select('topic', 'partition', 'offset')) as {
              topic: string;
              partition: number;
              offset: number;
            }[]
          ).map((r) => [`${r.topic}:${r.partition}`, Number(r.offset)]),
        );
        for (const [tp, end] of ends) if (end > 0 && Number(applied[tp] ?? flushed.get(tp) ?? -1) !== end - 1) return undefined;
        return true;
      },
      90_000,
      'counter caught up',
    );
  }

  async mysqlCounts(): Promise<Map<number, Counts>> {
    const rows = (await this.temp.db('jav').select('id', ...METRICS)) as ({ id: number } & Record<Metric, number | string>)[];
    return new Map(rows.map((r) => [Number(r.id), Object.fromEntries(METRICS.map((m) => [m, Number(r[m])])) as Counts]));
  }

  /**
   * Deltas not yet in MySQL per counter field: the pending hash plus any taken hash a killed flusher
   * left that the ledger does not have (offset fields left out).
   */
  async pending(): Promise<Map<string, number>> {
    const applied = new Set(((await this.temp.db('flush_ledger').select('flush_id')) as { flush_id: string }[]).map((r) => r.flush_id));
    const sources = ['tally:counter:pending', ...(await this.flushingKeys()).filter((k) => !applied.has(k.split(':').pop()!))];
    const out = new Map<string, number>();
    for (const key of sources) {
      for (const [f, v] of Object.entries(await this.redis.client.hgetall(key)))
        if (!f.startsWith('off:')) out.set(f, (out.get(f) ?? 0) + Number(v));
    }
    return out;
  }

  async flushingKeys(): Promise<string[]> {
    return (await this.redis.client.keys('tally:counter:flushing:*')).sort();
  }

  /**
   * I2/I3 of docs/exactly-once.md, for every movie and metric: MySQL + pending = initial +
   * what was produced (nothing lost, nothing twice), and each display key = MySQL + pending.
   * With `flushed`, nothing may be pending any more: MySQL alone is exact.
   */
  async assertExact(opts: { flushed: boolean }): Promise<void> {
    const mysql = await this.mysqlCounts();
    const pending = await this.pending();
    const wrong: unknown[] = [];
    for (let id = 1; id <= this.movies; id++) {
      for (const metric of METRICS) {
        const field = `${metric}:${id}`;
        const want = this.initial.get(id)![metric] + this.expectedDelta(field);
        const p = pending.get(field) ?? 0;
        const inMysql = mysql.get(id)![metric];
        if (inMysql + p !== want || (opts.flushed && p !== 0)) wrong.push({ field, want, mysql: inMysql, pending: p });
        const shown = await this.redis.client.get(`jav:${field}`);
        if (shown !== null && Number(shown) !== inMysql + p) wrong.push({ field, display: Number(shown), mysql: inMysql, pending: p });
      }
    }
    expect(wrong).toEqual([]);
    if (opts.flushed) {
      // The per-user states flushed with the deltas explain them: users liking each movie = the oracle.
      const rows = (await this.temp
        .db('movie_user_state')
        .where({ facet: 'like', value: 1 })
        .groupBy('jav_id')
        .select('jav_id')
        .count({ n: '*' })) as { jav_id: number; n: number | string }[];
      expect(new Map(rows.map((r) => [Number(r.jav_id), Number(r.n)]))).toEqual(this.likes.likes());
    }
  }

  private track(p: ServiceProcess): ServiceProcess {
    this.procs.push(p);
    return p;
  }
}

/** Sum of a metric over its label sets (optionally only lines containing `filter`), from /metrics. */
export async function metricValue(port: number, name: string, filter = ''): Promise<number | undefined> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  let found: number | undefined;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || (line[name.length] !== '{' && line[name.length] !== ' ')) continue;
    if (filter && !line.includes(filter)) continue;
    found = (found ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return found;
}
