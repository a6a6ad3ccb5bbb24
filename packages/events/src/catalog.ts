import { Type, types } from 'avsc';
import { EVENT_TYPES, type EventType, type TallyEvent } from './generated/events';
import { readSchemaSource, type AvroSchema, type DeadLetterSpec, type TopicSpec } from './schema-source';

/** One event type with everything a producer or consumer needs about it. */
export interface EventDefinition extends TopicSpec {
  readonly type: EventType;
  /** Confluent TopicNameStrategy: the value schema of topic T is registered under `T-value`. */
  readonly subject: string;
  /** The .avsc as parsed JSON, for registering with the schema registry. */
  readonly avroSchema: AvroSchema;
  /** avsc type without logical-type classes: timestamps and longs stay plain numbers (see generated/events.ts). */
  readonly avroType: types.RecordType;
}

interface Catalog {
  readonly byType: ReadonlyMap<EventType, EventDefinition>;
  readonly byTopic: ReadonlyMap<string, EventDefinition>;
  readonly deadLetter: DeadLetterSpec;
}

let loaded: Catalog | undefined;

/** Reads schemas/ once, on first use, and checks it matches the generated types (same event types, same order). */
function catalog(): Catalog {
  if (loaded) return loaded;
  const source = readSchemaSource();
  const types = source.events.map((e) => e.type);
  if (types.join() !== EVENT_TYPES.join()) {
    throw new Error(
      `schemas/topics.json lists [${types.join(', ')}] but generated/events.ts has [${EVENT_TYPES.join(', ')}]: regenerate the types`,
    );
  }
  const byType = new Map<EventType, EventDefinition>();
  for (const e of source.events) {
    const avroType = Type.forSchema(e.schema as Parameters<typeof Type.forSchema>[0]) as types.RecordType;
    const fields = new Set(avroType.fields.map((f) => f.name));
    const missing = e.spec.key.filter((k) => k !== 'viewer' && !fields.has(k));
    if (missing.length > 0)
      throw new Error(`schemas/topics.json: key of ${e.type} names ${missing.join(', ')}, not a field of ${e.spec.schema}`);
    byType.set(e.type as EventType, {
      ...e.spec,
      type: e.type as EventType,
      subject: `${e.spec.topic}-value`,
      avroSchema: e.schema,
      avroType,
    });
  }
  loaded = { byType, byTopic: new Map([...byType.values()].map((d) => [d.topic, d])), deadLetter: source.deadLetter };
  return loaded;
}

export function isEventType(value: string): value is EventType {
  return (EVENT_TYPES as readonly string[]).includes(value);
}

export function eventDefinition(type: EventType): EventDefinition {
  const d = catalog().byType.get(type);
  if (!d) throw new Error(`unknown event type '${String(type)}'`);
  return d;
}

/** All event definitions in catalog order (for creating topics and registering schemas). */
export function eventDefinitions(): EventDefinition[] {
  return [...catalog().byType.values()];
}

export function topicFor(type: EventType): string {
  return eventDefinition(type).topic;
}

/** The event type a topic carries, or undefined for a topic that is not an event topic (e.g. the dead letter). */
export function eventTypeForTopic(topic: string): EventType | undefined {
  return catalog().byTopic.get(topic)?.type;
}

export function deadLetterTopic(): DeadLetterSpec {
  return catalog().deadLetter;
}

/**
 * The Kafka record key: the parts listed in topics.json joined by ':'. `viewer` is `user:<id>` or,
 * for a guest, `ip:<ip>`, so a guest and a user with the same number never share a key. IPv6
 * addresses contain ':' too, but the id after them never does, so keys stay distinct.
 */
export function keyFor(event: TallyEvent): string {
  // Key parts are field names from topics.json; loading the catalog refuses one that is not a field
  // of its schema, so an own-property read is safe. Per event on ingest's path: no Map, no array.
  const payload = event.payload as unknown as Record<string, unknown>;
  const parts = eventDefinition(event.type).key;
  let key = '';
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    const value = part !== 'viewer' ? String(payload[part]) : payload.user_id !== null ? `user:${payload.user_id}` : `ip:${payload.ip}`;
    key = i === 0 ? value : `${key}:${value}`;
  }
  return key;
}
