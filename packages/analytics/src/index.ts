export * from './types';
export { computeDashboard, searchStats, DASHBOARD_LIMITS } from './dashboard';
export { AnalyticsReader, type AnalyticsReaderOptions } from './reader';
export {
  buildRecommendations,
  evaluateRecommendations,
  hitRates,
  mergeLists,
  coViewedReason,
  POPULAR_REASON,
  RECOMMENDATION_SETTINGS,
  type RecommendationBuild,
  type RecommendationQuality,
  type UserRecommendations,
} from './recommendations';
export { SnapshotStore, SNAPSHOT_IDS, userDocId, type RecommendationPointerDoc, type UserRecommendationsDoc } from './store';
export { withTimeout } from './timeout';
