import type { IHeaders } from 'kafkajs';
import { DLQ_HEADERS } from '@tally/kafka';
import type { TopicNames } from '@tally/events';

/** One dead_letters row (column names as in migration 0005). */
export interface DeadLetterRow {
  topic: string;
  partition: number;
  offset: number;
  reason: string;
  detail: string | null;
  step: string | null;
  service: string | null;
  original_topic: string | null;
  original_partition: number | null;
  original_offset: number | null;
  event_type: string | null;
  failed_at: Date;
  message_key: Buffer | null;
  payload: Buffer | null;
  headers: string;
}

export interface DlqMessage {
  offset: string;
  timestamp: string;
  key: Buffer | null;
  value: Buffer | null;
  headers?: IHeaders;
}

/** Kafka header values are Buffers, strings or arrays of them; the DLQ headers are single strings. */
export function headerStrings(h: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h ?? {})) {
    const one = Array.isArray(v) ? v[v.length - 1] : v;
    if (one !== undefined) out[k] = Buffer.isBuffer(one) ? one.toString('utf8') : String(one);
  }
  return out;
}

const intOrNull = (s: string | undefined): number | null => (s !== undefined && /^-?\d+$/.test(s) ? Number(s) : null);

/**
 * What a dead-letter record says, as a row. A record from a producer that wrote no Tally headers is
 * still kept (reason 'unknown', failed at the record's timestamp): counting it is better than losing it.
 */
export function deadLetterRow(topic: string, partition: number, msg: DlqMessage, names: Pick<TopicNames, 'eventTypeFor'>): DeadLetterRow {
  const h = headerStrings(msg.headers);
  const originalTopic = h[DLQ_HEADERS.topic] ?? null;
  const stated = h[DLQ_HEADERS.time] ? new Date(h[DLQ_HEADERS.time]!) : undefined;
  const failedAt = stated && !Number.isNaN(stated.getTime()) ? stated : new Date(Number(msg.timestamp));
  return {
    topic,
    partition,
    offset: Number(msg.offset),
    reason: (h[DLQ_HEADERS.reason] || 'unknown').slice(0, 100),
    detail: h[DLQ_HEADERS.detail] ?? null,
    step: h[DLQ_HEADERS.step]?.slice(0, 16) ?? null,
    service: h[DLQ_HEADERS.service]?.slice(0, 100) ?? null,
    original_topic: originalTopic,
    original_partition: intOrNull(h[DLQ_HEADERS.partition]),
    original_offset: intOrNull(h[DLQ_HEADERS.offset]),
    event_type: originalTopic ? (names.eventTypeFor(originalTopic) ?? null) : null,
    failed_at: failedAt,
    message_key: msg.key,
    payload: msg.value,
    headers: JSON.stringify(h),
  };
}

/** Where to start reading a partition: our stored position, but never before the oldest record still kept. */
export function startOffset(stored: number | undefined, low: number): number {
  return Math.max(stored ?? 0, low);
}
