import { RAW_EVENT_TABLES, type RawEventTable } from '@tally/db';
import type { EventEnvelope, EventType, TallyEvent } from '@tally/events';

/**
 * Pure logic of the event-logger (no clock, no I/O): decoded events → raw-log rows. The tables and columns are
 * those of @tally/db's migrations 0003-raw-event-logs and 0009-view-repeat-flag; `sent_at` is not stored
 * (only the corrected `occurred_at` and the server's `received_at` are).
 */

/** The raw logs, one per event family: the tables @tally/db's migrations define. */
export const RAW_LOG_TABLES = RAW_EVENT_TABLES;
export type RawLogTable = RawEventTable;

export type SqlValue = string | number | boolean | null;
export type RawRow = Readonly<Record<string, SqlValue>>;

const ENVELOPE_COLUMNS = ['event_id', 'user_id', 'ip', 'user_agent', 'is_bot', 'occurred_at', 'received_at'] as const;

/** Column order of each table's INSERT; every row of a table has exactly these keys. */
export const TABLE_COLUMNS: Readonly<Record<RawLogTable, readonly string[]>> = {
  view_events: [...ENVELOPE_COLUMNS, 'jav_id', 'repeat_view'],
  download_events: [...ENVELOPE_COLUMNS, 'jav_id'],
  search_events: [...ENVELOPE_COLUMNS, 'query', 'filters', 'entity_type', 'result_count'],
  actor_view_events: [...ENVELOPE_COLUMNS, 'actor_id'],
  tag_view_events: [...ENVELOPE_COLUMNS, 'tag_id'],
  recommendation_click_events: [...ENVELOPE_COLUMNS, 'jav_id', 'reason'],
  interaction_events: [...ENVELOPE_COLUMNS, 'jav_id', 'type', 'rating'],
  featured_events: [
    ...ENVELOPE_COLUMNS,
    'action',
    'item_type',
    'item_id',
    'group',
    'previous_group',
    'rank',
    'active',
    'expires_at',
    'admin_user_id',
  ],
};

/**
 * Schema fields the raw logs deliberately do not store, with the reason. Every other field of every
 * schema must have a column in its type's table (raw-log-columns tests), so a field added to a schema
 * either gets its column or is listed here, never silently dropped.
 */
export const NOT_STORED: Readonly<Record<string, string>> = {
  sent_at: 'client clock, only used to correct occurred_at; the corrected occurred_at and received_at are stored',
};

/** Which table each event type is logged in. */
export const TABLE_FOR_TYPE: Readonly<Record<EventType, RawLogTable>> = {
  'movie.viewed': 'view_events',
  'movie.downloaded': 'download_events',
  'movie.rated': 'interaction_events',
  'movie.liked': 'interaction_events',
  'movie.unliked': 'interaction_events',
  'movie.watchlisted': 'interaction_events',
  'movie.unwatchlisted': 'interaction_events',
  'actor.viewed': 'actor_view_events',
  'tag.viewed': 'tag_view_events',
  'search.performed': 'search_events',
  'recommendation.clicked': 'recommendation_click_events',
  'featured.item.created': 'featured_events',
  'featured.item.updated': 'featured_events',
  'featured.item.removed': 'featured_events',
};

const INTERACTION_TYPES = {
  'movie.liked': 'like',
  'movie.unliked': 'unlike',
  'movie.rated': 'rate',
  'movie.watchlisted': 'watchlist',
  'movie.unwatchlisted': 'unwatchlist',
} as const;

const FEATURED_ACTIONS = {
  'featured.item.created': 'created',
  'featured.item.updated': 'updated',
  'featured.item.removed': 'removed',
} as const;

/**
 * 'YYYY-MM-DD HH:MM:SS.mmm' in UTC: what a DATETIME(3) column stores. Sent as text so neither the
 * driver nor the session time zone converts it on the way in.
 */
export function sqlDateTime3(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(0, 23).replace('T', ' ');
}

/** Filters as JSON text with keys sorted, so the same filters give the same bytes whatever the client's key order. */
export function filtersJson(filters: Readonly<Record<string, string>>): string {
  const sorted: Record<string, string> = {};
  for (const k of Object.keys(filters).sort()) sorted[k] = filters[k]!;
  return JSON.stringify(sorted);
}

function envelopeRow(p: EventEnvelope): Record<(typeof ENVELOPE_COLUMNS)[number], SqlValue> {
  return {
    event_id: p.event_id,
    user_id: p.user_id,
    ip: p.ip,
    user_agent: p.user_agent,
    is_bot: p.is_bot,
    occurred_at: sqlDateTime3(p.occurred_at),
    received_at: sqlDateTime3(p.received_at),
  };
}

/** The row of one event (columns in TABLE_COLUMNS order). */
export function rawRowOf(event: TallyEvent): RawRow {
  const base = envelopeRow(event.payload);
  switch (event.type) {
    case 'movie.viewed':
      return { ...base, jav_id: event.payload.jav_id, repeat_view: event.payload.repeat_view };
    case 'movie.downloaded':
      return { ...base, jav_id: event.payload.jav_id };
    case 'actor.viewed':
      return { ...base, actor_id: event.payload.actor_id };
    case 'tag.viewed':
      return { ...base, tag_id: event.payload.tag_id };
    case 'recommendation.clicked':
      return { ...base, jav_id: event.payload.jav_id, reason: event.payload.reason };
    case 'search.performed': {
      const p = event.payload;
      return { ...base, query: p.query, filters: filtersJson(p.filters), entity_type: p.entity_type, result_count: p.result_count };
    }
    case 'movie.rated':
      return { ...base, jav_id: event.payload.jav_id, type: INTERACTION_TYPES[event.type], rating: event.payload.rating };
    case 'movie.liked':
    case 'movie.unliked':
    case 'movie.watchlisted':
    case 'movie.unwatchlisted':
      return { ...base, jav_id: event.payload.jav_id, type: INTERACTION_TYPES[event.type], rating: null };
    case 'featured.item.created':
    case 'featured.item.updated':
    case 'featured.item.removed': {
      const p = event.payload;
      return {
        ...base,
        action: FEATURED_ACTIONS[event.type],
        item_type: p.item_type,
        item_id: p.item_id,
        group: p.group,
        previous_group: 'previous_group' in p ? p.previous_group : null,
        rank: p.rank,
        active: p.active,
        expires_at: p.expires_at === null ? null : sqlDateTime3(p.expires_at),
        admin_user_id: p.admin_user_id,
      };
    }
    default: {
      const unknown: never = event;
      throw new Error(`no raw log for event type ${(unknown as { type: string }).type}`);
    }
  }
}

/** Rows grouped by table, each table's rows in the order the events came (Kafka order within a partition). */
export function rowsByTable(events: readonly TallyEvent[]): Map<RawLogTable, RawRow[]> {
  const out = new Map<RawLogTable, RawRow[]>();
  for (const e of events) {
    const table = TABLE_FOR_TYPE[e.type];
    let rows = out.get(table);
    if (!rows) out.set(table, (rows = []));
    rows.push(rawRowOf(e));
  }
  return out;
}
