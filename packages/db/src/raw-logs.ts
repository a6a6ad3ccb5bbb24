import type { Knex } from 'knex';
import { eventDefinitions, NOT_STORED, type AvroSchema } from '@tally/events';
import { eventColumns, SHIPPED_TABLES } from './migrations/0003-raw-event-logs';
import { addTallyColumnIfMissing, ASCII_UUID, createTallyTable, datetime3 } from './migrations/schema-helpers';

/**
 * Raw logs from the event catalog: every `raw_log_table` of schemas/topics.json exists, with a column
 * for every stored field of the schemas logged in it. Run after the migrations on every migrate, so
 * adding an event type or a field needs no migration of its own. Only tables that are Tally's raw logs
 * are created or altered (never an app table), and only what is missing, so it is safe to re-run.
 */

/** The envelope columns eventColumns (0003) gives every raw log, and the fields not stored at all. */
const ENVELOPE = new Set(['event_id', 'user_id', 'ip', 'user_agent', 'is_bot', 'occurred_at', 'received_at']);

interface FieldType {
  nullable: boolean;
  add: (t: Knex.TableBuilder, name: string) => Knex.ColumnBuilder;
}

function entries(v: unknown): Map<string, unknown> {
  return new Map<string, unknown>(typeof v === 'object' && v !== null && !Array.isArray(v) ? Object.entries(v) : []);
}

/** The MySQL column for an Avro field type (the .avsc JSON, which keeps logical types). */
function columnFor(avro: unknown): FieldType {
  if (Array.isArray(avro)) {
    const other = avro.filter((b) => b !== 'null');
    const inner = other.length === 1 ? columnFor(other[0]) : { nullable: true, add: (t: Knex.TableBuilder, n: string) => t.json(n) };
    return { nullable: avro.includes('null') || inner.nullable, add: inner.add };
  }
  const spec = entries(avro);
  const name = typeof avro === 'string' ? avro : spec.get('type');
  const logical = spec.get('logicalType');
  const plain = (add: FieldType['add']): FieldType => ({ nullable: false, add });
  if (name === 'long' && logical === 'timestamp-millis') return plain((t, n) => datetime3(t, n));
  if (name === 'string' && logical === 'uuid') return plain((t, n) => t.specificType(n, ASCII_UUID));
  switch (name) {
    case 'long':
      return plain((t, n) => t.bigInteger(n));
    case 'int':
      return plain((t, n) => t.integer(n));
    case 'boolean':
      return plain((t, n) => t.boolean(n));
    case 'float':
    case 'double':
      return plain((t, n) => t.double(n));
    case 'string':
      return plain((t, n) => t.string(n, 512));
    case 'enum': {
      const symbols = spec.get('symbols');
      return plain((t, n) => t.enu(n, Array.isArray(symbols) ? symbols.map(String) : []));
    }
    case 'map':
      return plain((t, n) => t.json(n));
    default:
      throw new Error(`raw logs: no MySQL column for Avro type ${JSON.stringify(avro)}`);
  }
}

function fieldsOf(schema: AvroSchema): { name: string; type: unknown }[] {
  const fields = entries(schema).get('fields');
  return (Array.isArray(fields) ? fields : []).flatMap((f: unknown) => {
    const field = entries(f);
    const name = field.get('name');
    return typeof name === 'string' ? [{ name, type: field.get('type') }] : [];
  });
}

/** Each catalog raw log with the stored non-envelope fields of its types, in catalog order. */
export function catalogRawLogs(): Map<string, Map<string, FieldType>> {
  const out = new Map<string, Map<string, FieldType>>();
  for (const d of eventDefinitions()) {
    let fields = out.get(d.raw_log_table);
    if (!fields) out.set(d.raw_log_table, (fields = new Map()));
    for (const f of fieldsOf(d.avroSchema)) {
      if (ENVELOPE.has(f.name) || NOT_STORED[f.name] !== undefined || fields.has(f.name)) continue;
      fields.set(f.name, columnFor(f.type));
    }
  }
  return out;
}

const SHIPPED = new Set<string>(SHIPPED_TABLES);

export async function syncRawLogTables(db: Knex): Promise<void> {
  for (const [table, fields] of catalogRawLogs()) {
    // A new raw log: the shared envelope and indexes of 0003 (and 0010's received_at index), then its fields.
    await createTallyTable(db, table, (t) => {
      eventColumns(t, table, (b) => {
        for (const [name, f] of fields) {
          const c = f.add(b, name);
          if (f.nullable) c.nullable();
          else c.notNullable();
        }
      });
      t.index(['received_at'], `${table}_received_idx`);
    });
    // A field added to a schema of an existing raw log: nullable, since the rows already logged lack it.
    for (const [name, f] of fields) {
      await addTallyColumnIfMissing(db, table, name, (t) => {
        f.add(t, name).nullable();
      });
    }
  }
}

/** Drops the raw logs syncRawLogTables created (those 0003 did not ship), for a full rollback. */
export async function dropCatalogRawLogTables(db: Knex): Promise<void> {
  for (const table of catalogRawLogs().keys()) if (!SHIPPED.has(table)) await db.schema.dropTableIfExists(table);
}
