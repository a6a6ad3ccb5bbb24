import type { EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import { PoisonMessageError, type RegistryCodec } from '../codec';
import type { OutgoingRecord, TallyProducer } from '../producer';

// A kafkajs stand-in for unit tests of the runner's offset logic: no broker, batches delivered by
// the test, and every call that moves an offset recorded in one ordered log, so a test can assert
// what happened before what (a commit only after the handler's effects and the dead letters).

type Listener = (e: { payload: unknown }) => void;

export interface FakeBatchOptions {
  highWatermark?: string;
  /** The batch is stale (the partition was revoked) once this returns true. */
  isStale?: () => boolean;
}

export class FakeConsumer {
  readonly events = { GROUP_JOIN: 'consumer.group_join', CRASH: 'consumer.crash' } as const;
  readonly seeks: { topic: string; partition: number; offset: string }[] = [];
  readonly commits: { topic: string; partition: number; offset: string }[] = [];
  heartbeats = 0;
  running = false;
  connected = false;
  subscribed: { topics: string[]; fromBeginning?: boolean } | undefined;
  /** Commits fail while this is above 0 (one failure per try). */
  failCommits = 0;
  private eachBatch: ((p: EachBatchPayload) => Promise<void>) | undefined;
  private readonly listeners = new Map<string, Listener[]>();
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    readonly config: unknown,
    private readonly log: string[],
  ) {}

  on(event: string, fn: Listener): () => void {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), fn]);
    return () => undefined;
  }

  connect(): Promise<void> {
    this.connected = true;
    return Promise.resolve();
  }

  subscribe(s: { topics: string[]; fromBeginning?: boolean }): Promise<void> {
    this.subscribed = s;
    return Promise.resolve();
  }

  run(o: { eachBatch: (p: EachBatchPayload) => Promise<void> }): Promise<void> {
    this.eachBatch = o.eachBatch;
    this.running = true;
    return Promise.resolve();
  }

  pause(ps: { topic: string; partitions: number[] }[]): void {
    for (const p of ps) for (const n of p.partitions) this.log.push(`pause ${p.topic}:${n}`);
  }

  seek(s: { topic: string; partition: number; offset: string }): void {
    this.seeks.push(s);
    this.log.push(`seek ${s.topic}:${s.partition}@${s.offset}`);
  }

  /** Like kafkajs: stops fetching, then waits for the batches in progress to return. */
  async disconnect(): Promise<void> {
    this.running = false;
    this.connected = false;
    await Promise.allSettled([...this.inFlight]);
  }

  emit(event: 'consumer.group_join' | 'consumer.crash', payload: unknown): void {
    for (const fn of this.listeners.get(event) ?? []) fn({ payload });
  }

  join(assignment: Record<string, number[]>): void {
    this.emit(this.events.GROUP_JOIN, { memberAssignment: assignment });
  }

  crash(error: unknown, restart = false): void {
    this.emit(this.events.CRASH, { error, restart });
  }

  /** Hands one batch to eachBatch; resolves when eachBatch returns (and rejects as it does). */
  deliver(topic: string, partition: number, messages: KafkaMessage[], o: FakeBatchOptions = {}): Promise<void> {
    if (!this.eachBatch) throw new Error('run() was not called');
    const last = messages[messages.length - 1]?.offset ?? '0';
    const payload = {
      batch: { topic, partition, messages, highWatermark: o.highWatermark ?? (BigInt(last) + 1n).toString() },
      resolveOffset: (offset: string) => void this.log.push(`resolve ${topic}:${partition}@${offset}`),
      commitOffsetsIfNecessary: (offsets?: { topics: { topic: string; partitions: { partition: number; offset: string }[] }[] }) => {
        if (this.failCommits > 0) {
          this.failCommits--;
          this.log.push('commit failed');
          return Promise.reject(new Error('coordinator not available'));
        }
        for (const t of offsets?.topics ?? [])
          for (const p of t.partitions) {
            this.commits.push({ topic: t.topic, partition: p.partition, offset: p.offset });
            this.log.push(`commit ${t.topic}:${p.partition}@${p.offset}`);
          }
        return Promise.resolve();
      },
      heartbeat: () => {
        this.heartbeats++;
        return Promise.resolve();
      },
      isRunning: () => this.running,
      isStale: o.isStale ?? (() => false),
    } as unknown as EachBatchPayload;
    const run = this.eachBatch(payload);
    const tracked = run.then(
      () => undefined,
      () => undefined,
    );
    this.inFlight.add(tracked);
    void tracked.then(() => this.inFlight.delete(tracked));
    return run;
  }
}

/** The Kafka client: every consumer() it made, in order (a recovery makes a new one). */
export class FakeKafka {
  readonly consumers: FakeConsumer[] = [];
  /** The ordered record of offset moves, dead-letter sends and handler calls (tests push too). */
  readonly log: string[] = [];

  consumer(config: unknown): FakeConsumer {
    const c = new FakeConsumer(config, this.log);
    this.consumers.push(c);
    return c;
  }

  admin(): never {
    throw new Error('the fake has no admin: set lagRefreshMs to 0');
  }

  /** Resolves once a consumer of this client is running (its owner awaited connect and subscribe first). */
  async running(): Promise<FakeConsumer> {
    while (!this.consumers.at(-1)?.running) await new Promise((r) => setTimeout(r, 1));
    return this.last;
  }

  get last(): FakeConsumer {
    return this.consumers[this.consumers.length - 1]!;
  }

  asKafka(): Kafka {
    return this as unknown as Kafka;
  }
}

/** A message whose value is the JSON the fake codec decodes; `poison` and `unknown` stand for bad bytes. */
export function fakeMessage(offset: number | string, value: unknown, key: string | null = null): KafkaMessage {
  return {
    offset: String(offset),
    key: key === null ? null : Buffer.from(key),
    value: Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)),
    timestamp: '0',
    attributes: 0,
    headers: {},
  } as KafkaMessage;
}

/** Decodes JSON; the bytes `poison` are undecodable. `failNext` tries throw a plain (retriable) error, as an unreachable registry would. */
export class FakeCodec {
  failNext = 0;
  decodes = 0;

  decode(value: Buffer | null): Promise<{ schemaId: number; value: unknown; writer: unknown }> {
    this.decodes++;
    if (this.failNext > 0) {
      this.failNext--;
      return Promise.reject(new Error('registry unreachable'));
    }
    const text = value?.toString('utf8') ?? '';
    if (text === 'poison') return Promise.reject(new PoisonMessageError('undecodable', 'not an Avro record'));
    return Promise.resolve({ schemaId: 1, value: JSON.parse(text) as unknown, writer: undefined });
  }

  /** Like a codec that has not fetched the schema yet: every message takes the awaited `decode`. */
  decodeKnown(): undefined {
    return undefined;
  }

  asCodec(): RegistryCodec {
    return this as unknown as RegistryCodec;
  }
}

/** Records every send into the shared log; `failNext` sends reject (the dead-letter topic is down). */
export class FakeProducer {
  readonly sent: OutgoingRecord[][] = [];
  failNext = 0;

  constructor(private readonly log: string[]) {}

  send(records: OutgoingRecord[], opts: { untilSettled?: boolean } = {}): Promise<void> {
    if (this.failNext > 0) {
      this.failNext--;
      this.log.push('dead-letter send failed');
      return Promise.reject(new Error('dead-letter topic unavailable'));
    }
    this.sent.push(records);
    this.log.push(`dead-letter ${records.length}${opts.untilSettled ? ' settled' : ''}`);
    return Promise.resolve();
  }

  asProducer(): TallyProducer {
    return this as unknown as TallyProducer;
  }
}
