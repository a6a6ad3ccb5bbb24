import type { Admin, Kafka } from 'kafkajs';
import { errorMessage, type Logger } from '@tally/runtime';
import { consumerLag } from './lag';
import type { RunnerMetrics } from './runner-metrics';

type Assignment = Record<string, number[]>;

/**
 * The partitions this member owns and their lag gauge. The gauge is refreshed from the broker on a
 * timer, so it keeps growing while the sink is stuck and no batch completes.
 */
export class RunnerAssignment {
  private current: Assignment = {};
  private admin: Admin | undefined;

  constructor(
    private readonly kafka: Kafka,
    private readonly groupId: string,
    private readonly m: RunnerMetrics,
    private readonly log: Logger,
  ) {}

  get partitions(): Assignment {
    return this.current;
  }

  /** Partitions that moved to another member stop being reported here (their new owner reports them). */
  set(assignment: Assignment): void {
    const keep = new Set(Object.entries(assignment).flatMap(([t, ps]) => ps.map((p) => `${t}:${p}`)));
    for (const [t, ps] of Object.entries(this.current))
      for (const p of ps) if (!keep.has(`${t}:${p}`)) this.m.lag.remove({ topic: t, partition: String(p) });
    this.current = assignment;
  }

  /** `active`: a member of the group and not stopping (a member that is neither has no lag to tell). */
  async refreshLag(active: boolean): Promise<void> {
    if (!active || Object.keys(this.current).length === 0) return;
    try {
      if (!this.admin) {
        this.admin = this.kafka.admin();
        await this.admin.connect();
      }
      const [group] = await consumerLag(this.admin, [this.groupId]);
      for (const p of group?.partitions ?? []) {
        if (this.current[p.topic]?.includes(p.partition)) this.m.lag.set({ topic: p.topic, partition: String(p.partition) }, p.lag);
      }
    } catch (err) {
      this.log.debug({ err: errorMessage(err) }, 'lag refresh failed (next tick retries)');
    }
  }

  async close(): Promise<void> {
    await this.admin?.disconnect().catch(() => undefined);
  }
}
