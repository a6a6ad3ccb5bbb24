import { RAW_EVENT_TABLES, type RawEventTable } from '@tally/db/tables';
import { EVENT_TYPES, eventDefinition, NOT_STORED, type EventType, type TallyEvent } from '@tally/events';

/**
 * Pure logic of the event-logger (no clock, no I/O): decoded events → raw-log rows. Each event type's
 * table is its `raw_log_table` in schemas/topics.json and the columns are its schema's fields (less
 * NOT_STORED), so a logged-only event type needs no code here; the tests check the migrated tables
 * (@tally/db's migrations) have every one of them.
 */

/** The raw logs, one per event family: the tables @tally/db's migrations define. */
export const RAW_LOG_TABLES = RAW_EVENT_TABLES;
export type RawLogTable = RawEventTable;

export type SqlValue = string | number | boolean | null;
export type RawRow = Readonly<Record<string, SqlValue>>;

const ENVELOPE_COLUMNS = ['event_id', 'user_id', 'ip', 'user_agent', 'is_bot', 'occurred_at', 'received_at'] as const;

/** Schema fields no raw log stores (@tally/events), re-exported for the tests beside this file. */
export { NOT_STORED };

/**
 * Columns that are not schema fields: where several event types share one table, the row says which
 * it was. Keyed by table, then by event type; every type logged in such a table needs its value.
 */
const TYPE_COLUMNS: Readonly<Partial<Record<RawLogTable, { column: string; value: Partial<Record<EventType, string>> }>>> = {
  interaction_events: {
    column: 'type',
    value: {
      'movie.liked': 'like',
      'movie.unliked': 'unlike',
      'movie.rated': 'rate',
      'movie.watchlisted': 'watchlist',
      'movie.unwatchlisted': 'unwatchlist',
    },
  },
  featured_events: {
    column: 'action',
    value: { 'featured.item.created': 'created', 'featured.item.updated': 'updated', 'featured.item.removed': 'removed' },
  },
};

/** A record with one entry per key, each computed from its key. */
function byKey<K extends string, V>(keys: readonly K[], valueOf: (key: K) => V): Record<K, V> {
  // The one cast: fromEntries types its keys as string, but it was given exactly `keys`.
  return Object.fromEntries(keys.map((k) => [k, valueOf(k)])) as Record<K, V>;
}

function isRawLogTable(table: string): table is RawLogTable {
  return RAW_LOG_TABLES.some((t) => t === table);
}

/** Which table each event type is logged in: `raw_log_table` in schemas/topics.json. */
export const TABLE_FOR_TYPE: Readonly<Record<EventType, RawLogTable>> = byKey(EVENT_TYPES, (type) => {
  const table = eventDefinition(type).raw_log_table;
  if (!isRawLogTable(table))
    throw new Error(`schemas/topics.json: raw_log_table ${table} of ${type} is not one of @tally/db's RAW_EVENT_TABLES`);
  return table;
});

/** How a field's value is written: timestamps as DATETIME(3) text, maps as JSON, the rest as is. */
type Conversion = 'time' | 'json' | 'plain';

/** From the field's type in the .avsc (avsc's parsed types drop the logical type). */
function conversionOf(avroType: unknown): Conversion {
  if (Array.isArray(avroType)) return avroType.map(conversionOf).find((c) => c !== 'plain') ?? 'plain';
  if (typeof avroType !== 'object' || avroType === null) return 'plain';
  const t = new Map<string, unknown>(Object.entries(avroType));
  if (t.get('type') === 'map') return 'json';
  return t.get('logicalType') === 'timestamp-millis' ? 'time' : 'plain';
}

/** The fields of an event type's .avsc, each with its declared type. */
function schemaFields(type: EventType): { name: string; type: unknown }[] {
  const schema = eventDefinition(type).avroSchema;
  const fields: unknown = typeof schema === 'object' && !Array.isArray(schema) ? schema.fields : undefined;
  if (!Array.isArray(fields)) throw new Error(`${type}: the schema is not a record`);
  return fields.map((f: unknown) => {
    const field = new Map<string, unknown>(typeof f === 'object' && f !== null ? Object.entries(f) : []);
    const name = field.get('name');
    if (typeof name !== 'string') throw new Error(`${type}: a field without a name`);
    return { name, type: field.get('type') };
  });
}

/**
 * Each table's stored fields with how they convert: the envelope first (in the order the tables were
 * written with), then the types' own fields in catalog order, a field only a later type has placed
 * after the field that precedes it in that type's schema (featured: group, previous_group, rank).
 */
const FIELDS_OF_TABLE: ReadonlyMap<RawLogTable, readonly { name: string; conversion: Conversion }[]> = (() => {
  const out = new Map<RawLogTable, { name: string; conversion: Conversion }[]>();
  for (const type of EVENT_TYPES) {
    const table = TABLE_FOR_TYPE[type];
    let fields = out.get(table);
    if (!fields) out.set(table, (fields = []));
    const own = schemaFields(type).filter((f) => NOT_STORED[f.name] === undefined);
    const envelope = ENVELOPE_COLUMNS.flatMap((c) => own.filter((f) => f.name === c));
    let previous: string | undefined;
    for (const f of [...envelope, ...own.filter((o) => !envelope.includes(o))]) {
      if (!fields.some((x) => x.name === f.name)) {
        const at = previous === undefined ? fields.length : fields.findIndex((x) => x.name === previous) + 1;
        fields.splice(at, 0, { name: f.name, conversion: conversionOf(f.type) });
      }
      previous = f.name;
    }
  }
  return out;
})();

/** Column order of each table's INSERT; every row of a table has exactly these keys. */
export const TABLE_COLUMNS: Readonly<Record<RawLogTable, readonly string[]>> = byKey(RAW_LOG_TABLES, (table) => {
  const typeColumn = TYPE_COLUMNS[table]?.column;
  const fields = (FIELDS_OF_TABLE.get(table) ?? []).map((f) => f.name);
  // A shared table's type column right after the envelope, where the migrations' INSERTs always had it.
  const n = ENVELOPE_COLUMNS.length;
  return [...fields.slice(0, n), ...(typeColumn === undefined ? [] : [typeColumn]), ...fields.slice(n)];
});

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

function sqlValue(value: unknown, conversion: Conversion): SqlValue {
  if (value === undefined || value === null) return null; // a field only some types of the table have
  if (conversion === 'time' && typeof value === 'number') return sqlDateTime3(value);
  if (conversion === 'json' && typeof value === 'object')
    return filtersJson(Object.fromEntries(Object.entries(value).map(([k, v]) => [k, String(v)])));
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  throw new Error(`no SQL value for ${JSON.stringify(value)}`);
}

/** The row of one event (columns in TABLE_COLUMNS order): its stored fields, plus the type column of a shared table. */
export function rawRowOf(event: TallyEvent): RawRow {
  const table = TABLE_FOR_TYPE[event.type];
  const payload = new Map<string, unknown>(Object.entries(event.payload));
  const row: Record<string, SqlValue> = {};
  for (const f of FIELDS_OF_TABLE.get(table) ?? []) row[f.name] = sqlValue(payload.get(f.name), f.conversion);
  const typeColumn = TYPE_COLUMNS[table];
  if (typeColumn) {
    const value = typeColumn.value[event.type];
    if (value === undefined) throw new Error(`no ${typeColumn.column} for ${event.type} in ${table}`);
    row[typeColumn.column] = value;
  }
  return row;
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
