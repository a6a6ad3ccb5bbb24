import type { Admin } from 'kafkajs';
import type { Knex } from 'knex';
import { jobNames } from '@tally/layout';
import { lastSuccessfulRun } from '@tally/jobs';
import { consumerLag } from '@tally/kafka';
import { errorMessage } from '@tally/runtime';

export interface GroupLag {
  group: string;
  /** Messages on the group's topics not yet committed; null when Kafka could not be asked. */
  lag: number | null;
  topics: { topic: string; lag: number }[];
  error?: string;
}

export interface JobAge {
  job: string;
  last_success_at: string | null;
  seconds_since: number | null;
}

/** What the health panel shows besides dead letters (those come from the dashboard snapshot). */
export class PipelineHealth {
  private connected: Promise<void> | undefined;

  constructor(
    private readonly admin: Admin,
    private readonly db: Knex,
    private readonly groups: readonly string[],
    private readonly now: () => number = Date.now,
  ) {}

  async consumerLag(): Promise<GroupLag[]> {
    try {
      this.connected ??= this.admin.connect().catch((err) => {
        this.connected = undefined; // try again on the next request
        throw err;
      });
      await this.connected;
    } catch (err) {
      return this.groups.map((group) => ({ group, lag: null, topics: [], error: `kafka: ${errorMessage(err)}` }));
    }
    return Promise.all(this.groups.map((g) => this.groupLag(g)));
  }

  private async groupLag(group: string): Promise<GroupLag> {
    try {
      const [g] = await consumerLag(this.admin, [group]);
      const byTopic = new Map<string, number>();
      for (const p of g?.partitions ?? []) byTopic.set(p.topic, (byTopic.get(p.topic) ?? 0) + p.lag);
      const topics = [...byTopic].map(([topic, lag]) => ({ topic, lag }));
      return { group, lag: g?.totalLag ?? 0, topics: topics.filter((t) => t.lag > 0).sort((a, b) => b.lag - a.lag) };
    } catch (err) {
      return { group, lag: null, topics: [], error: errorMessage(err) };
    }
  }

  async jobAges(): Promise<JobAge[]> {
    return Promise.all(
      [jobNames.flusher, jobNames.esSync, jobNames.snapshotBuilder, jobNames.retention].map(async (job) => {
        const last = await lastSuccessfulRun(this.db, job);
        return {
          job,
          last_success_at: last ? last.finishedAt.toISOString() : null,
          seconds_since: last ? Math.max(0, Math.round((this.now() - last.finishedAt.getTime()) / 1000)) : null,
        };
      }),
    );
  }

  async close(): Promise<void> {
    if (this.connected) await this.admin.disconnect();
  }
}
