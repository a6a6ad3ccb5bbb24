import type { Type, types } from 'avsc';
import { eventDefinition, isEventType } from './catalog';
import { DOMAIN_RULES, type DomainRule } from './domain-rules';
import { EVENT_TYPES, type EventType, type TallyEvent } from './generated/events';

/** One problem with one field; `field` is a dotted path (`filters.year`) and `reason` reads as "<field> <reason>". */
export interface FieldError {
  readonly field: string;
  readonly reason: string;
}

export type ValidationResult<E> = { ok: true; event: E } | { ok: false; errors: FieldError[] };

export type EventOf<T extends EventType> = Extract<TallyEvent, { type: T }>;

const FIELD_NAMES = new WeakMap<types.RecordType, Set<string>>();
function fieldNames(t: types.RecordType): Set<string> {
  let names = FIELD_NAMES.get(t);
  if (!names) FIELD_NAMES.set(t, (names = new Set(t.fields.map((f) => f.name))));
  return names;
}

/** Human wording of what an Avro type accepts. */
function describe(type: Type): string {
  switch (type.typeName) {
    case 'string':
      return 'a string';
    case 'boolean':
      return 'true or false';
    case 'int':
      return 'an integer from -2147483648 to 2147483647';
    case 'long':
      return 'a safe integer';
    case 'float':
    case 'double':
      return 'a number';
    case 'null':
      return 'null';
    case 'enum':
      return `one of: ${(type as types.EnumType).symbols.join(', ')}`;
    case 'map':
      return `an object whose values are each ${describe((type as types.MapType).valuesType as Type)}`;
    default:
      if (type.typeName.startsWith('union')) return (type as types.UnwrappedUnionType).types.map(describe).join(' or ');
      return `a valid ${type.typeName}`;
  }
}

/**
 * avsc looks enum symbols up in a plain object, so inherited names ('valueOf', 'constructor') pass
 * its isValid and then fail to encode; only the schema's own symbols are values of the enum.
 */
function ownSymbol(type: Type, value: unknown): boolean {
  return type.typeName !== 'enum' || (type as types.EnumType).symbols.includes(value as string);
}

/** Avro structure of one field: the innermost failing path (e.g. a map entry), else the field itself. */
function structureErrors(field: types.Field, value: unknown): FieldError[] {
  const errors: FieldError[] = [];
  field.type.isValid(value, {
    errorHook: (path, _val, type) => errors.push({ field: [field.name, ...path].join('.'), reason: `must be ${describe(type)}` }),
  });
  if (errors.length === 0) errors.push({ field: field.name, reason: `must be ${describe(field.type)}` });
  return errors;
}

export interface ValidateOptions {
  /**
   * The avsc type a consumed value was decoded with (the writer's schema, from the registry). When it
   * is the event type's current schema, the value is that schema's by construction (avsc built it from
   * the bytes: every field, of its type, nothing else), so only the domain rules are checked and the
   * decoded object is the payload. Any other writer (an older version) takes the whole check.
   */
  writer?: unknown;
}

/** Per writer type (avsc object): the event type whose current schema it is, else null. */
const CURRENT = new WeakMap<object, EventType | null>();

/**
 * Whether the writer's schema is the event type's current one: equal Parsing Canonical Forms (names,
 * types and order of the fields; docs and defaults do not change what a value read with it holds).
 */
function isCurrentSchema(type: EventType, writer: unknown): boolean {
  if (typeof writer !== 'object' || writer === null || typeof (writer as Type).fingerprint !== 'function') return false;
  let current = CURRENT.get(writer);
  if (current === undefined) {
    const same = (writer as Type).fingerprint().equals(eventDefinition(type).avroType.fingerprint());
    CURRENT.set(writer, (current = same ? type : null));
  }
  return current === type;
}

/** Each event type's fields that carry a domain rule, in schema order. */
const RULED = new Map<EventType, [string, DomainRule][]>();
function ruledFields(type: EventType): [string, DomainRule][] {
  let r = RULED.get(type);
  if (!r) {
    r = [];
    for (const f of eventDefinition(type).avroType.fields) {
      if (Object.hasOwn(DOMAIN_RULES, f.name)) r.push([f.name, DOMAIN_RULES[f.name]!]);
    }
    RULED.set(type, r);
  }
  return r;
}

/** validateEvent's verdict for a value decoded with the current schema (see ValidateOptions.writer). */
function domainOnly(type: EventType, payload: Record<string, unknown>): ValidationResult<TallyEvent> {
  let errors: FieldError[] | undefined;
  for (const [name, rule] of ruledFields(type)) {
    const reason = rule(payload[name], payload);
    if (reason !== undefined) (errors ??= []).push({ field: name, reason });
  }
  if (errors) return { ok: false, errors };
  return { ok: true, event: { type, payload } as unknown as TallyEvent };
}

/**
 * Checks a value against the event's Avro schema and the domain rules, and returns the event with
 * Avro defaults filled in (so it encodes as is). Pure — no clock, no I/O — so the ingest API (errors
 * per field to the client) and the consumers (invalid → dead letter) reach the same verdict.
 */
export function validateEvent<T extends EventType>(type: T, value: unknown, opts?: ValidateOptions): ValidationResult<EventOf<T>>;
export function validateEvent(type: string, value: unknown, opts?: ValidateOptions): ValidationResult<TallyEvent>;
export function validateEvent(type: string, value: unknown, opts?: ValidateOptions): ValidationResult<TallyEvent> {
  if (opts?.writer !== undefined && isEventType(type) && isCurrentSchema(type, opts.writer))
    return domainOnly(type, value as Record<string, unknown>);
  if (!isEventType(type)) {
    return { ok: false, errors: [{ field: 'event_type', reason: `must be one of: ${EVENT_TYPES.join(', ')} (got '${type}')` }] };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, errors: [{ field: '(event)', reason: `must be an object with the fields of ${type}` }] };
  }
  const input = value as Record<string, unknown>;
  const { avroType } = eventDefinition(type);
  const errors: FieldError[] = [];
  const payload: Record<string, unknown> = {};
  const wellFormed: string[] = [];
  for (const field of avroType.fields) {
    const given = input[field.name];
    if (given === undefined) {
      const fallback: unknown = field.defaultValue();
      if (fallback === undefined) errors.push({ field: field.name, reason: 'is required' });
      else payload[field.name] = fallback;
      continue;
    }
    // isValid without a hook takes avsc's compiled fast path; the hook (for the reason) only on failure.
    const structural = field.type.isValid(given) && ownSymbol(field.type, given) ? [] : structureErrors(field, given);
    if (structural.length > 0) errors.push(...structural);
    else wellFormed.push(field.name);
    payload[field.name] = given;
  }
  for (const name of wellFormed) {
    const reason = DOMAIN_RULES[name]?.(payload[name], payload);
    if (reason !== undefined) errors.push({ field: name, reason });
  }
  const known = fieldNames(avroType);
  for (const key of Object.keys(input)) {
    if (!known.has(key)) errors.push({ field: key, reason: `is not a field of ${type}` });
  }
  if (errors.length > 0) return { ok: false, errors };
  // The one cast of the edge: every field was just checked against this type's Avro schema, which is
  // what the generated interface is rendered from (the drift test keeps the two in step).
  return { ok: true, event: { type, payload } as unknown as TallyEvent };
}
