/**
 * Every table @tally/db knows, grouped by who owns it. The lists are `as const` so services get
 * literal table-name types (`RawEventTable`) instead of bare strings.
 */

/** Tables of the web app: created only when missing (dev/test/demo); never dropped unless we created them. */
export const WEB_APP_TABLES = [
  'jav',
  'actors',
  'tags',
  'jav_actors',
  'jav_tags',
  'featured_items',
  'users',
  'user_jav_history',
  'user_interactions',
  'watchlists',
] as const;
export type WebAppTable = (typeof WEB_APP_TABLES)[number];

/** Append-only raw logs the event-logger writes, one per event family; `event_id` is unique in each. */
export const RAW_EVENT_TABLES = [
  'view_events',
  'download_events',
  'search_events',
  'actor_view_events',
  'tag_view_events',
  'recommendation_click_events',
  'interaction_events',
  'featured_events',
] as const;
export type RawEventTable = (typeof RAW_EVENT_TABLES)[number];

/** Exactly-once and scheduling bookkeeping (see docs/exactly-once.md). */
export const BOOKKEEPING_TABLES = [
  'flush_ledger',
  'counter_offsets',
  'consumer_progress',
  'history_applied_events',
  'sync_watermarks',
  'job_runs',
] as const;
export type BookkeepingTable = (typeof BOOKKEEPING_TABLES)[number];

/** Dead-letter records copied from Kafka by snapshot-builder, and its read position (0005). */
export const DEAD_LETTER_TABLES = ['dead_letters', 'dead_letter_offsets'] as const;
export type DeadLetterTable = (typeof DEAD_LETTER_TABLES)[number];

/** Dead letters `tally dlq requeue` sent back to their topic (0006). */
export const REQUEUE_TABLES = ['dead_letter_requeues'] as const;

/** Adoption of an existing app (0007): what `tally adopt apply` added, and the per-user state behind likes, ratings and watchlists. */
export const ADOPTION_TABLES = ['tally_adopted_objects', 'movie_user_state'] as const;

/** Forgetting a person (0011): tombstones the sinks honour, and who asked for what. */
export const PRIVACY_TABLES = ['tally_forgotten', 'tally_forget_audit'] as const;

/** Records which web-app tables/columns/indexes the migrations created, so rollback removes only those. */
export const OWNERSHIP_TABLE = 'tally_owned_objects';

/** knex's migration log. Not `knex_migrations`: the web app may run its own knex migrations in this database. */
export const MIGRATIONS_TABLE = 'tally_migrations';

/** Tables that exist only because of Tally and go away with a full rollback. */
export const TALLY_TABLES = [
  ...RAW_EVENT_TABLES,
  ...BOOKKEEPING_TABLES,
  ...DEAD_LETTER_TABLES,
  ...REQUEUE_TABLES,
  ...ADOPTION_TABLES,
  ...PRIVACY_TABLES,
  OWNERSHIP_TABLE,
] as const;
export type TallyTable = (typeof TALLY_TABLES)[number];

/** Web-app tables the demo seeder fills (truncate-and-fill); user state tables are emptied. */
export const SEEDED_TABLES = ['jav', 'actors', 'tags', 'jav_actors', 'jav_tags', 'featured_items', 'users'] as const;
export const RESET_BY_SEED_TABLES = ['user_jav_history', 'user_interactions', 'watchlists'] as const;
export type SeededTable = (typeof SEEDED_TABLES)[number] | (typeof RESET_BY_SEED_TABLES)[number];
