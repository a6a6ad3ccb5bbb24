import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { RangeReader } from '@tally/kafka';
import type { Knex } from 'knex';
import type { TopicNames } from '@tally/events';
import { errorMessage, type Logger } from '@tally/runtime';
import { deadLetterRow, startOffset } from './handler';
import { loadPositions, saveDeadLetters } from './sink';

export interface CopyResult {
  copied: number;
  read: number;
  complete: boolean;
}

/**
 * Copies dead-letter records that arrived since the last run into MySQL, up to the end offsets seen
 * when the run started. Positions live in MySQL (dead_letter_offsets), never in Kafka: the consumer
 * group is throwaway, nothing is committed, and a copy killed anywhere resumes exactly.
 */
export class DeadLetterCopier {
  constructor(
    private readonly kafka: Kafka,
    private readonly db: Knex,
    private readonly names: TopicNames,
    private readonly opts: { groupPrefix: string; timeoutMs: number; logger: Logger },
  ) {}

  async copy(signal?: AbortSignal): Promise<CopyResult> {
    const topic = this.names.deadLetter;
    const pending = await this.pendingRanges(topic);
    if (pending.size === 0) return { copied: 0, read: 0, complete: true };

    let copied = 0;
    let read = 0;
    const reader = new RangeReader({
      kafka: this.kafka,
      groupId: `${this.opts.groupPrefix}-${randomUUID()}`,
      allowAutoTopicCreation: false,
      ranges: [...pending].map(([partition, r]) => ({ topic, partition, start: BigInt(r.next), end: BigInt(r.end) })),
      // Records before our position were copied already, past the end they are the next run's
      // business: the reader hands over only those in between.
      onBatch: async (b) => {
        const rows = b.messages.map((m) => deadLetterRow(topic, b.partition, m, this.names));
        const next = Number(b.messages[b.messages.length - 1]!.offset) + 1;
        copied += await saveDeadLetters(this.db, topic, b.partition, rows, next);
        read += b.messages.length;
        await b.heartbeat();
      },
    });
    try {
      const { done } = await reader.start();
      const complete = await waitFor(done, this.opts.timeoutMs, signal);
      if (!complete)
        this.opts.logger.warn(
          { topic, timeoutMs: this.opts.timeoutMs, read },
          'dead-letter copy stopped before the end; the next run continues from here',
        );
      return { copied, read, complete };
    } finally {
      await reader
        .close()
        .catch((e: unknown) => this.opts.logger.warn({ err: errorMessage(e) }, 'dead-letter consumer did not disconnect cleanly'));
    }
  }

  /** Partitions with records between our position and the end offset as of now. */
  private async pendingRanges(topic: string): Promise<Map<number, { next: number; end: number }>> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      // No topic yet (nothing was ever dead-lettered): nothing to copy, and no reason to create it.
      if (!(await admin.listTopics()).includes(topic)) return new Map();
      const ends = await admin.fetchTopicOffsets(topic);
      const stored = await loadPositions(this.db, topic);
      const out = new Map<number, { next: number; end: number }>();
      for (const p of ends) {
        const next = startOffset(stored.get(p.partition), Number(p.low));
        if (next < Number(p.high)) out.set(p.partition, { next, end: Number(p.high) });
      }
      return out;
    } finally {
      await admin.disconnect();
    }
  }
}

/** true when `done` resolved, false on timeout or abort; rejects when `done` rejects. */
async function waitFor(done: Promise<void>, ms: number, signal?: AbortSignal): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const stop = new Promise<boolean>((res) => {
    timer = setTimeout(() => res(false), ms);
    onAbort = () => res(false);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([done.then(() => true), stop]);
  } finally {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  }
}
