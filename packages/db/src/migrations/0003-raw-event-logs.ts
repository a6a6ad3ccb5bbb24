import type { Knex } from 'knex';
import { ASCII_UUID, createTallyTable, datetime3 } from './schema-helpers';

// Append-only logs written by the event-logger with multi-row INSERT IGNORE; `event_id` UNIQUE is
// what makes a Kafka replay add nothing (invariant I1 of docs/exactly-once.md). No foreign keys:
// they would cost a lookup per inserted row and the referenced rows belong to the web app.

type Build = (t: Knex.CreateTableBuilder) => void;

// The tables as shipped, not @tally/db's live RAW_EVENT_TABLES: a shipped migration must not change
// when a raw log is added (a new one comes with its own migration).
export const SHIPPED_TABLES = [
  'view_events',
  'download_events',
  'search_events',
  'actor_view_events',
  'tag_view_events',
  'recommendation_click_events',
  'interaction_events',
  'featured_events',
] as const;
type ShippedTable = (typeof SHIPPED_TABLES)[number];

/** Columns every raw log shares, plus the user and time indexes; a migration adding a raw log builds it with these too. */
export function eventColumns(t: Knex.CreateTableBuilder, table: string, body: Build): void {
  t.bigIncrements('id').unsigned().primary();
  t.specificType('event_id', `${ASCII_UUID} NOT NULL`);
  t.bigInteger('user_id').unsigned().nullable();
  body(t);
  t.string('ip', 45).nullable();
  t.string('user_agent', 512).nullable();
  t.boolean('is_bot').notNullable().defaultTo(false);
  datetime3(t, 'occurred_at').notNullable();
  datetime3(t, 'received_at').notNullable();
  t.unique(['event_id'], { indexName: `${table}_event_id_unique` });
  t.index(['user_id', 'occurred_at'], `${table}_user_occurred_idx`);
  t.index(['occurred_at'], `${table}_occurred_idx`);
}

/** A log keyed by one item column, indexed (item, occurred_at) for per-item time ranges. */
function itemLog(itemColumn: string, extra?: Build): (table: string) => Build {
  return (table) => (t) => {
    t.bigInteger(itemColumn).unsigned().notNullable();
    extra?.(t);
    t.index([itemColumn, 'occurred_at'], `${table}_${itemColumn}_occurred_idx`);
  };
}

const ITEM_TYPES = ['movie', 'actor', 'tag'];

const BODIES: Record<ShippedTable, (table: string) => Build> = {
  view_events: itemLog('jav_id'),
  download_events: itemLog('jav_id'),
  actor_view_events: itemLog('actor_id'),
  tag_view_events: itemLog('tag_id'),
  recommendation_click_events: itemLog('jav_id', (t) => t.string('reason', 100).notNullable()),
  interaction_events: itemLog('jav_id', (t) => {
    t.enu('type', ['like', 'unlike', 'rate', 'watchlist', 'unwatchlist']).notNullable();
    t.tinyint('rating').unsigned().nullable();
  }),
  search_events: (table) => (t) => {
    t.string('query', 500).notNullable();
    t.json('filters').nullable();
    t.enu('entity_type', ITEM_TYPES).notNullable();
    t.integer('result_count').unsigned().notNullable();
    t.index(['entity_type', 'occurred_at'], `${table}_entity_occurred_idx`);
  },
  featured_events: (table) => (t) => {
    t.enu('action', ['created', 'updated', 'removed']).notNullable();
    t.enu('item_type', ITEM_TYPES).notNullable();
    t.bigInteger('item_id').unsigned().notNullable();
    t.string('group', 64).notNullable();
    t.string('previous_group', 64).nullable();
    t.integer('rank').nullable();
    t.boolean('active').nullable();
    datetime3(t, 'expires_at').nullable();
    t.bigInteger('admin_user_id').unsigned().nullable();
    t.index(['item_type', 'item_id', 'occurred_at'], `${table}_item_occurred_idx`);
  },
};

export async function up(db: Knex): Promise<void> {
  for (const table of SHIPPED_TABLES) {
    await createTallyTable(db, table, (t) => eventColumns(t, table, BODIES[table](table)));
  }
}

export async function down(db: Knex): Promise<void> {
  for (const table of [...SHIPPED_TABLES].reverse()) await db.schema.dropTableIfExists(table);
}
