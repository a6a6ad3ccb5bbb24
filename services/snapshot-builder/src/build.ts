import type { Knex } from 'knex';
import type { Catalog, CatalogPart } from '@tally/catalog';
import {
  buildRecommendations,
  computeDashboard,
  evaluateRecommendations,
  type RecommendationQuality,
  type SnapshotStore,
} from '@tally/analytics';
import type { JobContext, JobResult } from '@tally/jobs';
import type { CopyResult } from './dead-letter-copier';

/** The app tables a build reads (checked at start): movies and their counts, actor and tag names, history, likes. */
export const CATALOG_PARTS: readonly CatalogPart[] = ['movies', 'actors', 'tags', 'history', 'interactions'];

export interface BuildDeps {
  db: Knex;
  catalog: Catalog;
  store: SnapshotStore;
  copyDeadLetters: (signal: AbortSignal) => Promise<CopyResult>;
}

/**
 * One run: dead letters first (so the dashboard counts them), then every figure computed in MySQL
 * at one `now`, then the writes to MongoDB. Nothing is written to MongoDB until everything is
 * computed, and each write is atomic for readers (see SnapshotStore): a run killed at any point
 * leaves the previous snapshots served.
 */
export async function buildSnapshots(deps: BuildDeps, ctx: JobContext): Promise<JobResult> {
  const dlq = await deps.copyDeadLetters(ctx.signal);
  const now = new Date();
  const dashboard = await computeDashboard(deps.db, deps.catalog, now);
  const recs = await buildRecommendations(deps.db, deps.catalog, now);
  let quality: RecommendationQuality | undefined;
  if (ctx.args.flags.has('evaluate')) quality = await evaluateRecommendations(deps.db, deps.catalog, now);
  ctx.signal.throwIfAborted();

  await deps.store.writeDashboard(dashboard);
  const generation = await deps.store.writeRecommendations(recs.users, dashboard.generated_at);
  if (quality) {
    await deps.store.writeQuality({ ...quality, generated_at: dashboard.generated_at });
    ctx.logger.info({ quality }, 'recommendation quality (held-out last view): hit rate vs popularity baseline');
  }
  return {
    items: 1 + recs.users.length,
    summary: {
      generated_at: dashboard.generated_at,
      generation,
      recommendation_users: recs.users.length,
      dead_letters_copied: dlq.copied,
      dead_letters_complete: dlq.complete,
      ...(quality ? { quality } : {}),
    },
  };
}
