import { randomUUID } from 'node:crypto';
import type { IHeaders, Kafka } from 'kafkajs';
import { DLQ_HEADERS, RangeReader } from '@tally/kafka';

/** One record of the dead-letter topic, as `tally dlq` shows it. `id` is `<partition>:<offset>`. */
export interface DeadLetterEntry {
  id: string;
  partition: number;
  offset: string;
  reason: string;
  detail: string;
  step: string;
  service: string;
  source: { topic: string; partition: number | null; offset: string | null };
  failedAt: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, string>;
}

export function headerText(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) {
    if (v === undefined) continue;
    const one = Array.isArray(v) ? v[v.length - 1] : v;
    out[k] = Buffer.isBuffer(one) ? one.toString('utf8') : String(one);
  }
  return out;
}

export function toEntry(
  partition: number,
  m: { offset: string; key: Buffer | null; value: Buffer | null; timestamp: string; headers?: IHeaders },
): DeadLetterEntry {
  const h = headerText(m.headers);
  const p = h[DLQ_HEADERS.partition];
  return {
    id: `${partition}:${m.offset}`,
    partition,
    offset: m.offset,
    reason: h[DLQ_HEADERS.reason] ?? 'unknown',
    detail: h[DLQ_HEADERS.detail] ?? '',
    step: h[DLQ_HEADERS.step] ?? '',
    service: h[DLQ_HEADERS.service] ?? '',
    source: { topic: h[DLQ_HEADERS.topic] ?? '', partition: p === undefined ? null : Number(p), offset: h[DLQ_HEADERS.offset] ?? null },
    failedAt: h[DLQ_HEADERS.time] ?? new Date(Number(m.timestamp)).toISOString(),
    key: m.key,
    value: m.value,
    headers: h,
  };
}

/** The original headers, without what Tally added when dead-lettering, plus where the requeue came from. */
export function requeueHeaders(e: DeadLetterEntry, dlqTopic: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(e.headers)) if (!k.startsWith('tally-dlq-')) out[k] = v;
  out['tally-requeued-from'] = `${dlqTopic}:${e.id}`;
  return out;
}

export interface DeadLetterFilter {
  reason?: string;
  since?: Date;
  ids?: string[];
}

export function matches(e: DeadLetterEntry, f: DeadLetterFilter): boolean {
  if (f.reason && e.reason !== f.reason) return false;
  if (f.since && new Date(e.failedAt).getTime() < f.since.getTime()) return false;
  if (f.ids && f.ids.length > 0 && !f.ids.includes(e.id)) return false;
  return true;
}

/**
 * Every record of the dead-letter topic up to its current end, read by a throwaway consumer group
 * (deleted afterwards) so no live group's offsets move. The topic is small by nature (poison only).
 */
export async function readDeadLetters(kafka: Kafka, topic: string): Promise<DeadLetterEntry[]> {
  const admin = kafka.admin();
  await admin.connect();
  const groupId = `tally-cli-dlq-${randomUUID()}`;
  try {
    const ends = (await admin.fetchTopicOffsets(topic)).filter((p) => BigInt(p.high) > BigInt(p.low));
    if (ends.length === 0) return [];
    const out: DeadLetterEntry[] = [];
    const reader = new RangeReader({
      kafka,
      groupId,
      maxWaitTimeInMs: 200,
      ranges: ends.map((p) => ({ topic, partition: p.partition, start: BigInt(p.low), end: BigInt(p.high) })),
      onBatch: (b) => {
        for (const m of b.messages) out.push(toEntry(b.partition, m));
        return Promise.resolve();
      },
    });
    try {
      await reader.run();
    } finally {
      await reader.close();
    }
    await admin.deleteGroups([groupId]).catch(() => undefined);
    return out.sort((a, b) => a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)));
  } finally {
    await admin.disconnect();
  }
}
