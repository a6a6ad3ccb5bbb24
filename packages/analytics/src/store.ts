import { randomUUID } from 'node:crypto';
import type { Db } from 'mongodb';
import { mongoCollections } from '@tally/layout';
import type { DashboardSnapshot, Recommendation } from './types';
import type { RecommendationQuality, UserRecommendations } from './recommendations';

/** _id of the documents in analytics_snapshots. */
export const SNAPSHOT_IDS = {
  dashboard: 'dashboard',
  /** Pointer to the live generation of recommendation_snapshots. */
  recommendations: 'recommendations',
  recommendationQuality: 'recommendation_quality',
} as const;

export interface DashboardDoc extends DashboardSnapshot {
  _id: string;
}
export interface RecommendationPointerDoc {
  _id: string;
  generation: string;
  previous: string | null;
  generated_at: string;
  users: number;
}
export interface UserRecommendationsDoc {
  _id: string;
  generation: string;
  user_id: number;
  generated_at: string;
  items: Recommendation[];
}

/** `<generation>:<user id>`: one key lookup per read, and generations never collide. */
export const userDocId = (generation: string, userId: number): string => `${generation}:${userId}`;

// 1,000 documents per insertMany: ~100 kB each, well under the 48 MB message limit.
const INSERT_BATCH = 1_000;

/**
 * Writes finished payloads into MongoDB so readers always see a whole snapshot, old or new:
 *  - the dashboard is ONE document replaced in one write (single-document writes are atomic);
 *  - recommendations are one document per user under a new generation, made visible by flipping one
 *    pointer document once every user's document is in. A build killed before the flip leaves the old
 *    pointer and the old generation untouched; its half-written generation is deleted by the next build.
 */
export class SnapshotStore {
  constructor(private readonly mongo: Db) {}

  private get snapshots() {
    return this.mongo.collection<{ _id: string }>(mongoCollections.analyticsSnapshots);
  }
  private get recommendations() {
    return this.mongo.collection<UserRecommendationsDoc>(mongoCollections.recommendationSnapshots);
  }

  async writeDashboard(snapshot: DashboardSnapshot): Promise<void> {
    await this.snapshots.replaceOne({ _id: SNAPSHOT_IDS.dashboard }, { ...snapshot }, { upsert: true });
  }

  async writeQuality(q: RecommendationQuality & { generated_at: string }): Promise<void> {
    await this.snapshots.replaceOne({ _id: SNAPSHOT_IDS.recommendationQuality }, { ...q }, { upsert: true });
  }

  /** Returns the new generation id once it is live. */
  async writeRecommendations(users: readonly UserRecommendations[], generatedAt: string): Promise<string> {
    const generation = `${generatedAt}-${randomUUID().slice(0, 8)}`;
    await this.recommendations.createIndex({ generation: 1 });
    for (let i = 0; i < users.length; i += INSERT_BATCH) {
      const docs = users
        .slice(i, i + INSERT_BATCH)
        .map((u) => ({ _id: userDocId(generation, u.user_id), generation, user_id: u.user_id, generated_at: generatedAt, items: u.items }));
      await this.recommendations.insertMany(docs, { ordered: false });
    }
    const current = (await this.snapshots.findOne({ _id: SNAPSHOT_IDS.recommendations })) as RecommendationPointerDoc | null;
    const pointer = { generation, previous: current?.generation ?? null, generated_at: generatedAt, users: users.length };
    await this.snapshots.replaceOne({ _id: SNAPSHOT_IDS.recommendations }, pointer, { upsert: true });
    // Keep the previous generation: a reader that read the old pointer just before the flip still
    // finds its document. Everything older, and leftovers of killed builds, go.
    const keep = [generation, ...(current ? [current.generation] : [])];
    await this.recommendations.deleteMany({ generation: { $nin: keep } });
    return generation;
  }
}
