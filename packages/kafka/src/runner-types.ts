import type { Kafka } from 'kafkajs';
import type { Logger, ServiceMetrics } from '@tally/runtime';
import type { RegistryCodec } from './codec';
import type { TallyProducer } from './producer';

// The sink contract of the consumer runner: what a service hands it and what its handler answers.

export interface DecodedMessage<T> {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: T;
  schemaId: number;
  timestamp: string;
}

export interface PartitionBatch<T> {
  topic: string;
  partition: number;
  /** The valid messages of the chunk (dead-lettered ones are not here). */
  messages: DecodedMessage<T>[];
  /** First and last offset of the chunk as fetched, dead-lettered messages included: a sink that keeps its own progress records `lastOffset`, so poison does not look like a gap. */
  firstOffset: string;
  lastOffset: string;
  /** Keep group membership during long work (kafkajs heartbeats only between batches otherwise). */
  heartbeat(): Promise<void>;
  /** Sinks that skip already-applied messages report them here (metric: reprocessed). */
  reportReprocessed(count: number): void;
}

/**
 * What a handler returns instead of throwing. `done`: every message's effect is durable, except the
 * ones listed as dead letters (invalid values the sink refused). `retry`: nothing may be assumed
 * durable; the runner retries the same messages with backoff and never dead-letters them.
 */
export type BatchOutcome =
  | { kind: 'done'; deadLetters?: { offset: string; reason: string; detail: string }[] }
  | { kind: 'retry'; error: unknown }
  /**
   * The sink's own progress is behind Kafka's (e.g. Redis lost its state): read again from `offset`.
   * `everyPartition`: the loss is not this partition's alone, so every partition this member owns is
   * moved back to the sink's resume point now — a partition that receives nothing new would otherwise
   * never notice, and what it had counted since the last durable point would stay lost.
   */
  | { kind: 'rewind'; offset: string; everyPartition?: boolean };

export type Validation<T> = { ok: true; value: T } | { ok: false; reason: string; detail: string };

export interface ConsumerRunnerOptions<T> {
  kafka: Kafka;
  service: string;
  groupId: string;
  topics: string[];
  codec: RegistryCodec;
  producer: TallyProducer;
  deadLetterTopic: string;
  logger: Logger;
  metrics: ServiceMetrics;
  handle: (batch: PartitionBatch<T>) => Promise<BatchOutcome>;
  /**
   * Domain rules beyond the Avro schema; a refusal dead-letters the message with reason `invalid_payload`.
   * `writer` is the avsc type the value was decoded with (Decoded.writer).
   */
  validate?: (topic: string, value: unknown, writer: unknown) => Validation<T>;
  /** The event's server receive time (epoch ms) for the freshness metric; default: `value.received_at`. */
  receivedAtOf?: (value: T) => number | undefined;
  /** Messages per handler call; the offset is committed after each chunk (≈ progress granularity). */
  maxChunk?: number;
  retryInitialMs?: number;
  retryMaxMs?: number;
  sessionTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  partitionsConsumedConcurrently?: number;
  fromBeginning?: boolean;
  /**
   * For sinks that store their own progress (the truth, committed atomically with their effects):
   * where to resume a newly assigned partition. The runner seeks there, so a sink whose store lost
   * state (or is behind Kafka's commit) re-reads what it needs. Undefined: Kafka's commit is used.
   */
  resumeFrom?: (topic: string, partition: number) => Promise<string | undefined>;
  /**
   * How often the member asks the broker for its partitions' lag (committed vs end offset), so the
   * lag gauge keeps growing while the sink is stuck and no batch completes. 0 disables it.
   */
  lagRefreshMs?: number;
  /** Call `handle` even for a chunk whose messages were all dead-lettered (sinks that record progress per chunk). */
  handleEmptyChunks?: boolean;
  /** Called when a fetched batch starts; its result when the batch ends (the idle-memory release waits for it). */
  onWork?: () => () => void;
  /** Called when kafkajs gives up (a crash it will not restart from): the service should exit non-zero. */
  onFatal: (err: unknown) => void;
}
