import type { IHeaders } from 'kafkajs';
import type { OutgoingRecord } from './producer';

/** Header names on dead-letter records; `tally dlq` (ops tooling) reads the same names. */
export const DLQ_HEADERS = {
  reason: 'tally-dlq-reason',
  detail: 'tally-dlq-detail',
  step: 'tally-dlq-step',
  service: 'tally-dlq-service',
  topic: 'tally-dlq-topic',
  partition: 'tally-dlq-partition',
  offset: 'tally-dlq-offset',
  time: 'tally-dlq-time',
} as const;

export interface DeadLetter {
  reason: string;
  detail: string;
  /** Which step refused the message: decode (bytes, schema id), validate (domain rules), handle (sink). */
  step: 'decode' | 'validate' | 'handle';
}

export interface SourceMessage {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers?: IHeaders;
}

/**
 * The original key and value, untouched, so a requeue after a fix replays exactly what arrived;
 * everything Tally adds lives in headers. Original headers are kept too (their names do not clash:
 * ours all start with `tally-dlq-`).
 */
export function deadLetterRecord(topic: string, service: string, msg: SourceMessage, dl: DeadLetter, now = new Date()): OutgoingRecord {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(msg.headers ?? {})) {
    if (v !== undefined && !Array.isArray(v)) headers[k] = Buffer.isBuffer(v) ? v.toString('utf8') : String(v);
  }
  Object.assign(headers, {
    [DLQ_HEADERS.reason]: dl.reason,
    [DLQ_HEADERS.detail]: dl.detail.slice(0, 2_000),
    [DLQ_HEADERS.step]: dl.step,
    [DLQ_HEADERS.service]: service,
    [DLQ_HEADERS.topic]: msg.topic,
    [DLQ_HEADERS.partition]: String(msg.partition),
    [DLQ_HEADERS.offset]: msg.offset,
    [DLQ_HEADERS.time]: now.toISOString(),
  });
  return {
    topic,
    key: msg.key === null ? null : msg.key.toString('utf8'),
    value: msg.value ?? Buffer.alloc(0),
    headers,
  };
}
