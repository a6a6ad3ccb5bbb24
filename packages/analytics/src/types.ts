/** Windows of the "top movies" lists; 'all' reads the jav counters instead of the raw logs. */
export type TopWindow = '24h' | '7d' | '30d' | 'all';
/** Windows of the search lists. */
export type SearchWindow = '24h' | '7d' | '30d';

export const TOP_WINDOWS: readonly TopWindow[] = ['24h', '7d', '30d', 'all'];
export const SEARCH_WINDOWS: readonly SearchWindow[] = ['24h', '7d', '30d'];

export interface TopMovie {
  jav_id: number;
  code: string;
  title: string;
  count: number;
}

export interface SearchStat {
  /** Lower-cased, trimmed query text: "Tokyo " and "tokyo" are one query. */
  query: string;
  entity_type: string;
  searches: number;
  zero_result_searches: number;
  /** Mean result_count over the window, 2 decimals. */
  avg_results: number;
}

export type SearchStats = { [W in SearchWindow]: { popular: SearchStat[]; zero_results: SearchStat[] } };

export interface DailyTrend {
  /** UTC calendar date, YYYY-MM-DD. */
  date: string;
  views: number;
  downloads: number;
  /** Distinct signed-in viewers that day (anonymous views have no stable identity to count). */
  unique_viewers: number;
}

export interface ProviderStats {
  /** null: movies whose provider the app left empty. */
  provider: string | null;
  movies: number;
  views: number;
  downloads: number;
}

/** Which window each figure without one in its name covers, so a UI can label it. */
export interface FigureWindows {
  daily_trends_days: number;
  top_actors: SearchWindow;
  top_tags: SearchWindow;
  recommendation_clicks: SearchWindow;
  providers: 'all';
  dead_letters: 'all';
}

export interface DashboardSnapshot {
  /** ISO time the figures were computed at (also the end of every window). */
  generated_at: string;
  top_movies: Record<TopWindow, { by_views: TopMovie[]; by_downloads: TopMovie[] }>;
  daily_trends: DailyTrend[];
  providers: ProviderStats[];
  top_actors: { actor_id: number; name: string; views: number }[];
  top_tags: { tag_id: number; name: string; views: number }[];
  searches: SearchStats;
  recommendation_clicks: { reason: string; clicks: number }[];
  dead_letters: { reason: string; count: number }[];
  /** Added to the contract: the window of each figure above that does not name one. */
  windows: FigureWindows;
}

export interface Recommendation {
  jav_id: number;
  score: number;
  /** `co_viewed:<jav_id>` (the seen movie that contributed most) or `popular`; ≤ 64 chars, fits recommendation.clicked. */
  reason: string;
}

export interface SearchQuery {
  window: SearchWindow;
  zeroResults: boolean;
  entityType?: string;
  limit?: number;
}
