import type { Consumer, EachBatchPayload } from 'kafkajs';
import { errorMessage, type Logger } from '@tally/runtime';
import { backoffMs, sleepWithTicks } from './backoff';
import { Stopped } from './chunk-processor';
import type { ConsumerRunnerOptions } from './runner-types';

type Assignment = Record<string, number[]>;

/**
 * Where a sink with its own progress (`resumeFrom`) says its partitions resume: checked once per
 * partition after each assignment, and for every owned partition when the sink lost its state.
 */
export class PartitionResume {
  private unchecked = new Set<string>();

  constructor(
    private readonly resumeFrom: ConsumerRunnerOptions<unknown>['resumeFrom'],
    private readonly log: Logger,
    private readonly logFor: (topic: string, partition: number) => Logger,
    private readonly stopping: () => boolean,
  ) {}

  /**
   * Each newly assigned partition is checked against the sink's progress before its first chunk (in
   * onBatch, in order with its processing): an eager seek at the join would race with the fetches.
   */
  assigned(assignment: Assignment): void {
    this.unchecked = new Set(Object.entries(assignment).flatMap(([t, ps]) => ps.map((p) => `${t}:${p}`)));
  }

  /**
   * Where the sink says a partition resumes (its own progress, the truth), read fresh before the
   * partition's first chunk after an assignment. Returns the offset to seek to when the fetch started
   * elsewhere, or undefined to go on with this batch. Waits (with backoff) while the sink's store is down.
   */
  async sinkResumePoint(p: Pick<EachBatchPayload, 'batch' | 'heartbeat' | 'isRunning' | 'isStale'>): Promise<string | undefined> {
    const { topic, partition } = p.batch;
    const key = `${topic}:${partition}`;
    if (!this.resumeFrom || !this.unchecked.has(key)) return undefined;
    for (let attempt = 0; ; attempt++) {
      try {
        const offset = await this.resumeFrom(topic, partition);
        this.unchecked.delete(key);
        const first = p.batch.messages[0]?.offset;
        return offset !== undefined && first !== undefined && BigInt(offset) !== BigInt(first) ? offset : undefined;
      } catch (err) {
        // The sink's store is down: wait for it (the batch must not start from Kafka's commit).
        this.logFor(topic, partition).warn({ err: errorMessage(err) }, 'cannot read sink progress yet');
        await sleepWithTicks(
          backoffMs(attempt, 200, 5_000),
          1_000,
          () => p.heartbeat(),
          () => this.stopping() || !p.isRunning() || p.isStale(),
        );
        if (this.stopping() || !p.isRunning() || p.isStale()) throw new Stopped();
      }
    }
  }

  /** Seeks every other partition of this member to where the sink says it resumes (see `everyPartition`). */
  async rewindOthers(consumer: Pick<Consumer, 'seek'>, assignment: Assignment, topic: string, partition: number): Promise<void> {
    if (!this.resumeFrom) return;
    for (const [t, ps] of Object.entries(assignment)) {
      for (const p of ps) {
        if (t === topic && p === partition) continue;
        try {
          const offset = await this.resumeFrom(t, p);
          if (offset !== undefined) consumer.seek({ topic: t, partition: p, offset });
        } catch (err) {
          // The partition's next chunk still checks its progress itself (the sink's own rewind).
          this.logFor(t, p).warn({ err: errorMessage(err) }, 'could not read the sink progress to rewind');
        }
      }
    }
    this.log.warn(
      { partitions: Object.values(assignment).reduce((n, ps) => n + ps.length, 0) },
      "sink lost its state: every partition moved back to the sink's progress",
    );
  }
}
