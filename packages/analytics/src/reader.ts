import type { Knex } from 'knex';
import type { Db } from 'mongodb';
import { q, type Catalog } from '@tally/catalog';
import { mongoCollections } from '@tally/layout';
import { errorMessage, type Logger } from '@tally/runtime';
import { computeDashboard, DASHBOARD_LIMITS, searchStats, sortStats } from './dashboard';
import { POPULAR_REASON, RECOMMENDATION_SETTINGS } from './recommendations';
import { SNAPSHOT_IDS, userDocId, type RecommendationPointerDoc, type UserRecommendationsDoc } from './store';
import type { DashboardSnapshot, Recommendation, SearchQuery, SearchStat } from './types';
import { withTimeout } from './timeout';

export interface AnalyticsReaderOptions {
  mysql: Knex;
  /** Where the app's movies and history are (the MySQL fallbacks read them). */
  catalog: Catalog;
  /** Absent: every answer comes from MySQL. */
  mongo?: Db;
  logger: Logger;
  /** Longest a MongoDB read may take before the MySQL answer is used instead. */
  mongoTimeoutMs?: number;
  /** After a MongoDB failure, skip it for this long: one slow failure per outage, not one per request. */
  mongoRetryAfterMs?: number;
}

type Source<T> = { ok: true; value: T } | { ok: false };

/**
 * Reads the snapshots the snapshot-builder stored; when MongoDB is down, slow or empty, computes the
 * same figures in MySQL (dashboard, searches) or falls back to popularity (recommendations).
 */
export class AnalyticsReader {
  private readonly timeoutMs: number;
  private readonly retryAfterMs: number;
  private mongoSkipUntil = 0;

  constructor(private readonly opts: AnalyticsReaderOptions) {
    // 1 s: a healthy FerretDB answers a key lookup in a few ms; the MySQL fallback takes longer than that anyway.
    this.timeoutMs = opts.mongoTimeoutMs ?? 1_000;
    this.retryAfterMs = opts.mongoRetryAfterMs ?? 5_000;
  }

  async dashboard(): Promise<{ source: 'snapshot' | 'mysql_fallback'; snapshot: DashboardSnapshot }> {
    const doc = await this.fromMongo('dashboard', (db) =>
      db
        .collection<{ _id: string }>(mongoCollections.analyticsSnapshots)
        .findOne({ _id: SNAPSHOT_IDS.dashboard }, { maxTimeMS: this.timeoutMs }),
    );
    if (doc.ok && doc.value) {
      const { _id, ...snapshot } = doc.value as { _id: string } & DashboardSnapshot;
      void _id;
      return { source: 'snapshot', snapshot };
    }
    return { source: 'mysql_fallback', snapshot: await computeDashboard(this.opts.mysql, this.opts.catalog) };
  }

  async searches(q: SearchQuery): Promise<{ source: 'snapshot' | 'mysql_fallback'; generated_at: string; items: SearchStat[] }> {
    const limit = clampLimit(q.limit, DASHBOARD_LIMITS.searches);
    const list = q.zeroResults ? 'zero_results' : 'popular';
    const pick = (items: SearchStat[]) => items.filter((s) => q.entityType === undefined || s.entity_type === q.entityType).slice(0, limit);
    const doc = await this.fromMongo('searches', (db) =>
      db
        .collection<{ _id: string }>(mongoCollections.analyticsSnapshots)
        .findOne(
          { _id: SNAPSHOT_IDS.dashboard },
          { projection: { generated_at: 1, [`searches.${q.window}.${list}`]: 1 }, maxTimeMS: this.timeoutMs },
        ),
    );
    const snap = doc.ok ? (doc.value as Partial<DashboardSnapshot> | null) : null;
    const stored = snap?.searches?.[q.window]?.[list];
    if (snap?.generated_at && stored) return { source: 'snapshot', generated_at: snap.generated_at, items: pick(stored) };
    const now = new Date();
    const stats = await searchStats(this.opts.mysql, now, { window: q.window, ...(q.entityType ? { entityType: q.entityType } : {}) });
    const items = sortStats(stats[q.window][list], q.zeroResults ? 'zero_result_searches' : 'searches');
    return { source: 'mysql_fallback', generated_at: now.toISOString(), items: pick(items) };
  }

  async recommendations(
    userId: number,
    limit?: number,
  ): Promise<{ source: 'snapshot' | 'popularity_fallback'; generated_at: string | null; items: Recommendation[] }> {
    const n = clampLimit(limit, RECOMMENDATION_SETTINGS.perUser);
    const doc = await this.fromMongo('recommendations', async (db) => {
      const pointer = (await db
        .collection<{ _id: string }>(mongoCollections.analyticsSnapshots)
        .findOne({ _id: SNAPSHOT_IDS.recommendations }, { maxTimeMS: this.timeoutMs })) as RecommendationPointerDoc | null;
      if (!pointer) return null;
      return db
        .collection<UserRecommendationsDoc>(mongoCollections.recommendationSnapshots)
        .findOne({ _id: userDocId(pointer.generation, userId) }, { maxTimeMS: this.timeoutMs });
    });
    if (doc.ok && doc.value) return { source: 'snapshot', generated_at: doc.value.generated_at, items: doc.value.items.slice(0, n) };
    // Not active at the last build (or no snapshot / MongoDB down): the most viewed movies they have not seen.
    const c = this.opts.catalog;
    const h = c.mapping.history;
    const id = `j.${q(c.movies.id)}`;
    const rows = (await this.opts.mysql.raw(
      `SELECT ${id} AS id FROM ${c.sql('movies')} j WHERE NOT EXISTS (SELECT 1 FROM ${c.sql('history')} h WHERE h.${q(h.user)} = ? AND h.${q(h.movie)} = ${id})
        ORDER BY j.${q(c.movies.counts.views)} DESC, ${id} ASC LIMIT ?`,
      [userId, n],
    )) as [{ id: number }[]];
    return {
      source: 'popularity_fallback',
      generated_at: null,
      items: rows[0].map((r) => ({ jav_id: Number(r.id), score: 0, reason: POPULAR_REASON })),
    };
  }

  /** A MongoDB read bounded in time; any failure opens a short circuit so the next calls go straight to MySQL. */
  private async fromMongo<T>(what: string, read: (db: Db) => Promise<T>): Promise<Source<T>> {
    const mongo = this.opts.mongo;
    if (!mongo || Date.now() < this.mongoSkipUntil) return { ok: false };
    try {
      return { ok: true, value: await withTimeout(read(mongo), this.timeoutMs, `mongodb ${what} read`) };
    } catch (err) {
      this.mongoSkipUntil = Date.now() + this.retryAfterMs;
      this.opts.logger.warn({ err: errorMessage(err), what, retryAfterMs: this.retryAfterMs }, 'mongodb unavailable: answering from mysql');
      return { ok: false };
    }
  }
}

function clampLimit(limit: number | undefined, max: number): number {
  if (limit === undefined || !Number.isFinite(limit)) return max;
  return Math.max(1, Math.min(max, Math.floor(limit)));
}
