/**
 * Schema fields the raw logs deliberately do not store, with the reason. Every other field of every
 * schema has a column in its type's raw log (`raw_log_table` in topics.json): @tally/db's migrations
 * add it and the event-logger writes it, and the raw-log-columns tests fail naming any that lacks one.
 */
export const NOT_STORED: Readonly<Record<string, string>> = {
  sent_at: 'client clock, only used to correct occurred_at; the corrected occurred_at and received_at are stored',
};
