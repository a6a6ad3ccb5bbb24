import type { AnalyticsReader } from '@tally/analytics';

/**
 * The slice of @tally/analytics' reader the routes use (PostHog's `Pick<Hub, …>` idea): the
 * snapshot-or-MySQL decision lives in that package, the HTTP shape here.
 */
export type Analytics = Pick<AnalyticsReader, 'dashboard' | 'searches' | 'recommendations'>;
