import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { Presets, SingleBar } from 'cli-progress';
import type { Admin } from 'kafkajs';
import { catalogFromConfig } from '@tally/catalog';
import { createMysql, createRedis } from '@tally/clients';
import { topicNames, type EventType, type TopicNames } from '@tally/events';
import {
  createKafka,
  decodeMessage,
  RangeReader,
  RegistryCodec,
  type BatchOutcome,
  type DecodedMessage,
  type SinkBinding,
} from '@tally/kafka';
import { ServiceMetrics, type Logger } from '@tally/runtime';
import { counterBinding } from '@tally/counter/binding';
import { eventLoggerBinding } from '@tally/event-logger/binding';
import { historyBinding } from '@tally/history/binding';
import type { CliConfig } from '../context';
import { parseDuration } from './simulate';

/** Where a replay starts or stops: the beginning, an offset (every partition), or a time. */
export type Position = { kind: 'beginning' } | { kind: 'end' } | { kind: 'offset'; offset: bigint } | { kind: 'time'; ms: number };

/** `beginning`, `end`, an offset (digits), an ISO-8601 time, or a duration ago (`2h`). */
export function parsePosition(text: string, flag: string, now = Date.now()): Position {
  const t = text.trim();
  if (t === 'beginning' || t === 'earliest') return { kind: 'beginning' };
  if (t === 'end' || t === 'latest') return { kind: 'end' };
  if (/^\d+$/.test(t)) return { kind: 'offset', offset: BigInt(t) };
  if (/^\d+(\.\d+)?(ms|s|m|h)$/.test(t)) return { kind: 'time', ms: now - parseDuration(t) };
  const ms = Date.parse(t);
  if (Number.isNaN(ms)) throw new Error(`${flag}: "${text}" is not beginning, end, an offset, an ISO-8601 time or a duration ago (2h)`);
  return { kind: 'time', ms };
}

export const SINKS = ['event-logger', 'counter', 'history', 'stdout', 'ndjson:<file>'] as const;

export interface ReplayOptions {
  topics: string[];
  from: Position;
  to: Position;
  sink: string;
  /** history only: whose progress rows guard the replay (the live group's by default). */
  progressGroup: string;
  progress: boolean;
}

const STALL_REPORT_MS = 15_000;

interface Range {
  topic: string;
  partition: number;
  start: bigint;
  /** Exclusive. */
  end: bigint;
}

/** Resolves a position per partition with the broker's ListOffsets (by time: first offset at or after it). */
async function offsetsAt(admin: Admin, topic: string, p: Position): Promise<Map<number, bigint>> {
  const ends = await admin.fetchTopicOffsets(topic);
  if (p.kind === 'time') {
    const byTime = await admin.fetchTopicOffsetsByTimestamp(topic, p.ms);
    const high = new Map(ends.map((e) => [e.partition, BigInt(e.high)]));
    // -1: no message at or after that time → the partition's end.
    return new Map(byTime.map((x) => [x.partition, BigInt(x.offset) < 0n ? high.get(x.partition)! : BigInt(x.offset)]));
  }
  return new Map(
    ends.map((e) => {
      const low = BigInt(e.low);
      const high = BigInt(e.high);
      const at = p.kind === 'beginning' ? low : p.kind === 'end' ? high : p.offset < low ? low : p.offset > high ? high : p.offset;
      return [e.partition, at];
    }),
  );
}

export async function planRanges(admin: Admin, topics: string[], from: Position, to: Position): Promise<Range[]> {
  const ranges: Range[] = [];
  for (const topic of topics) {
    const starts = await offsetsAt(admin, topic, from);
    const ends = await offsetsAt(admin, topic, to);
    for (const [partition, start] of starts) {
      const end = ends.get(partition) ?? start;
      if (end > start) ranges.push({ topic, partition, start, end });
    }
  }
  return ranges;
}

type Sink = { binding: SinkBinding<unknown>; close: () => Promise<unknown> };

function fileSink(names: TopicNames, out: NodeJS.WritableStream, close: () => Promise<unknown>): Sink {
  return {
    binding: {
      topics: [...names.eventTopics],
      handle: async (batch) => {
        const type = names.eventTypeFor(batch.topic);
        for (const m of batch.messages) {
          const line = JSON.stringify(
            { topic: batch.topic, partition: batch.partition, offset: m.offset, type, event: m.value },
            (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v),
          );
          if (!out.write(line + '\n')) await new Promise<void>((r) => out.once('drain', () => r()));
        }
        return { kind: 'done' };
      },
    },
    close,
  };
}

async function openSink(config: CliConfig, o: ReplayOptions, names: TopicNames, logger: Logger, metrics: ServiceMetrics): Promise<Sink> {
  if (o.sink === 'stdout') return fileSink(names, process.stdout, async () => undefined);
  if (o.sink.startsWith('ndjson:')) {
    const path = o.sink.slice('ndjson:'.length);
    if (!path) throw new Error('--sink ndjson:<file> needs a file name');
    const out = createWriteStream(path, { flags: 'w' });
    return fileSink(names, out, () => new Promise((r) => out.end(r)));
  }
  const db = createMysql({ url: config.MYSQL_URL, poolMax: 4 });
  // The live sinks' own mapping: a replay writes the app's tables and keys exactly as the services do.
  const catalog = catalogFromConfig(config);
  if (o.sink === 'event-logger')
    return { binding: eventLoggerBinding(db, names, logger, metrics) as SinkBinding<unknown>, close: () => db.destroy() };
  if (o.sink === 'history')
    return { binding: historyBinding(db, names, o.progressGroup, metrics, catalog) as SinkBinding<unknown>, close: () => db.destroy() };
  if (o.sink === 'counter') {
    const redis = createRedis({ url: config.REDIS_URL, connectionName: 'tally-replay' });
    return {
      binding: counterBinding(redis, db, names, { dedupTtlSeconds: 600 }, logger, catalog) as SinkBinding<unknown>,
      close: async () => {
        await db.destroy();
        await redis.quit();
      },
    };
  }
  await db.destroy();
  throw new Error(`--sink: "${o.sink}" is not one of ${SINKS.join(', ')}`);
}

export interface ReplaySummary {
  messages: number;
  applied: number;
  alreadyApplied: number;
  invalid: Record<string, number>;
  seconds: number;
}

/**
 * `tally replay`: reads a range of a topic with its own throwaway consumer group (the live groups'
 * offsets never move), decodes through the registry, and applies the chosen sink's own idempotent
 * write — the very code the service runs. Into live stores it changes nothing; into emptied tables
 * it rebuilds what the range contained.
 */
export async function replay(config: CliConfig, logger: Logger, o: ReplayOptions): Promise<{ code: number; summary: ReplaySummary }> {
  const names = topicNames(config.TOPIC_PREFIX);
  const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: 'tally-replay', logger });
  const metrics = new ServiceMetrics('replay', { defaultMetrics: false });
  const sink = await openSink(config, o, names, logger, metrics);
  const wrong = o.topics.filter((t) => !sink.binding.topics.includes(t));
  if (wrong.length > 0) {
    await sink.close();
    throw new Error(
      `--sink ${o.sink} does not consume ${wrong.join(', ')} (it consumes ${sink.binding.topics.map((t) => names.eventTypeFor(t) ?? t).join(', ')})`,
    );
  }
  const admin = kafka.admin();
  await admin.connect();
  const groupId = `tally-replay-${randomUUID()}`;
  const summary: ReplaySummary = { messages: 0, applied: 0, alreadyApplied: 0, invalid: {}, seconds: 0 };
  const t0 = Date.now();
  let reader: RangeReader | undefined;
  const bar = o.progress
    ? new SingleBar(
        { format: 'replay |{bar}| {value}/{total} messages | {rate} msg/s | ETA {eta_formatted}', hideCursor: true },
        Presets.shades_classic,
      )
    : undefined;
  try {
    const ranges = await planRanges(admin, o.topics, o.from, o.to);
    const total = ranges.reduce((n, r) => n + Number(r.end - r.start), 0);
    bar?.start(total, 0, { rate: 0 });
    if (ranges.length > 0) {
      const codec = new RegistryCodec(config.SCHEMA_REGISTRY_URL);
      reader = new RangeReader({
        kafka,
        groupId,
        ranges,
        // A batch whose handler keeps failing is kafkajs' to fetch again (and, its retries spent, to crash).
        onError: 'redeliver',
        stallReportMs: STALL_REPORT_MS,
        // A replay that stops moving says where it waits (the log is how a hung one is diagnosed).
        onStall: (open) => {
          const waiting = open.slice(0, 20).map((r) => `${r.topic}:${r.partition} at ${r.next} of ${r.end}`);
          logger.warn(
            { open: open.length, waiting },
            `replay: no progress for ${STALL_REPORT_MS / 1000} s; ${open.length} partitions not finished`,
          );
        },
        onBatch: async ({ topic, partition, messages: inRange, heartbeat, isRunning, isStale }) => {
          const decoded: DecodedMessage<unknown>[] = [];
          for (const m of inRange) {
            const r = await decodeMessage({ codec, validate: sink.binding.validate }, topic, partition, m);
            if ('decoded' in r) {
              decoded.push(r.decoded);
              continue;
            }
            // Counted, not dead-lettered: a replay leaves the live dead-letter topic alone. A refused
            // value and bytes that do not decode are both `invalid_payload`; an unknown schema id says so.
            const why =
              r.dl.step === 'validate' || (r.dl.reason === 'undecodable' && r.dl.detail !== 'undecodable')
                ? 'invalid_payload'
                : r.dl.reason;
            summary.invalid[why] = (summary.invalid[why] ?? 0) + 1;
          }
          let outcome: BatchOutcome = { kind: 'done' };
          for (let attempt = 0; decoded.length > 0 || sink.binding.handleEmptyChunks; attempt++) {
            outcome = await sink.binding.handle({
              topic,
              partition,
              messages: decoded,
              firstOffset: inRange[0]!.offset,
              lastOffset: inRange[inRange.length - 1]!.offset,
              heartbeat,
              reportReprocessed: (n) => (summary.alreadyApplied += n),
            });
            if (outcome.kind !== 'retry') break;
            if (attempt >= 5 || !isRunning() || isStale()) throw outcome.error;
            await new Promise((r) => setTimeout(r, 200 * 2 ** attempt));
            await heartbeat();
          }
          // The counter lost its Redis state: it needs what it counted since the last flush again.
          if (outcome.kind === 'rewind') return { rewind: outcome.offset };
          summary.messages += inRange.length;
          summary.applied += decoded.length;
          bar?.update(summary.messages, { rate: Math.round(summary.messages / Math.max(0.001, (Date.now() - t0) / 1000)) });
        },
      });
      await reader.run();
    }
    summary.seconds = (Date.now() - t0) / 1000;
    bar?.stop();
    return { code: 0, summary };
  } finally {
    bar?.stop();
    await reader?.close();
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect();
    await sink.close();
  }
}

export function topicsFor(names: TopicNames, events: string[], topics: string[]): string[] {
  const out = [...topics];
  for (const e of events) {
    let topic: string;
    try {
      topic = names.topicFor(e as EventType);
    } catch {
      throw new Error(`--event: "${e}" is not an event type (e.g. movie.viewed)`);
    }
    out.push(topic);
  }
  if (out.length === 0) throw new Error('name what to replay: --event <type> or --topic <topic>');
  return [...new Set(out)];
}
