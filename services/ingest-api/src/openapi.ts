import {
  CLIENT_TIME_PATTERN,
  MAX_FUTURE_SKEW_MS,
  MIN_TIME_MS,
  SERVER_FILLED_FIELDS,
  SERVER_KEY_ONLY_FIELDS,
  SERVER_SET_FIELDS,
  eventDefinitions,
  fieldJsonSchema,
  type AvroSchema,
  type EventDefinition,
} from '@tally/events';
import { METHOD_NOT_ALLOWED_RESPONSE } from '@tally/runtime';

// The ingest API's OpenAPI document, derived from schemas/*.avsc (types, required fields, enums) and
// the domain rules' schema fragments (@tally/events), so it states every rule validateEvent enforces.
// It is documentation: the route validates per event (index, field and reason), but the property test
// (openapi.test.ts) holds the two to the same verdicts.

type Json = Record<string, unknown>;

/** `v1.<user_id>.<expires>.<signature>` (see the auth docs); the server refuses a body or header user_token of another shape. */
export { USER_TOKEN_PATTERN } from './user-token';
import { USER_TOKEN_PATTERN } from './user-token';
export const USER_TOKEN_HEADER = 'x-tally-user-token';

/** Types only a server key may send; a browser key's event of one of them is refused (per-event error on `type`). */
const ADMIN_TYPE_PREFIX = 'featured.';
// Envelope fields the client may leave out: the server fills them (ids, times) or they are nullable.
const FILLED_BY_SERVER = new Set(SERVER_FILLED_FIELDS);
const SERVER_SET = new Set(SERVER_SET_FIELDS);
const SERVER_ONLY = new Set<string>(SERVER_KEY_ONLY_FIELDS);

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const iso = (ms: number) => new Date(ms).toISOString();

/** occurred_at and sent_at: an ISO-8601 string or integer epoch milliseconds, bounds stated for both forms. */
function clientTime(name: string, doc: string | undefined): Json {
  const time = (fieldJsonSchema(name, 'long') as { 'x-tally-time': Json })['x-tally-time'];
  const corrected = name === 'occurred_at';
  const rule =
    `Not before ${iso(MIN_TIME_MS)}, and not more than ${MAX_FUTURE_SKEW_MS / 3_600_000} h after the server's received_at` +
    (corrected
      ? '; both checked on the value as sent and after the clock-skew correction occurred_at + (received_at − sent_at) when sent_at is given.'
      : '.');
  return {
    description:
      `${doc ?? ''} ${rule} The relative bound is the x-tally-time extension (JSON Schema cannot compare with the server clock).`.trim(),
    oneOf: [
      {
        type: 'string',
        format: 'date-time',
        pattern: CLIENT_TIME_PATTERN,
        description: 'RFC 3339 date-time with a zone (Z or ±hh:mm), a real calendar day, years 2000–2099',
      },
      // occurred_at: null, like leaving it out, means "now" (the server's received_at).
      { type: 'integer', format: 'int64', minimum: MIN_TIME_MS, description: 'epoch milliseconds', nullable: true },
    ],
    'x-tally-time': { ...time, ...(corrected ? { corrected_by: '(received_at - sent_at) when sent_at is given' } : {}) },
  };
}

function fieldSchema(f: { name: string; type: AvroSchema; doc?: string }): Json {
  if (f.name === 'occurred_at' || f.name === 'sent_at') return clientTime(f.name, f.doc);
  const schema: Json = { ...fieldJsonSchema(f.name, f.type), ...(f.doc ? { description: f.doc } : {}) };
  if (f.name === 'event_id') {
    schema.nullable = true;
    schema.description =
      `${f.doc ?? ''} Absent or null: the server assigns a random one (then a retry is not recognised as the same event).`.trim();
  }
  if (SERVER_ONLY.has(f.name)) {
    schema.description =
      `${f.doc ?? ''} Only with a server key (forwarding the end user's); with a browser key the event is refused (field error), and the server uses the request's own.`.trim();
    schema['x-tally-server-key-only'] = true;
  }
  if (f.name === 'user_id') {
    schema.description =
      `${f.doc ?? ''} With a browser key, proven by user_token (body) or the X-Tally-User-Token header; an unproven user_id is dropped and the event kept as a guest's (notice in the answer).`.trim();
  }
  return schema;
}

/** The JSON a client sends for one event type: its Avro fields less the server-set ones, nothing else. */
function eventSchema(d: EventDefinition): Json {
  const avro = d.avroSchema as { doc?: string; fields: { name: string; type: AvroSchema; doc?: string; default?: unknown }[] };
  const properties: Json = { type: { type: 'string', enum: [d.type] } };
  const required = ['type'];
  for (const f of avro.fields) {
    if (SERVER_SET.has(f.name)) continue;
    properties[f.name] = fieldSchema(f);
    // SERVER_ONLY fields are filled from the request; fields with an Avro default (nullable ones) may be left out.
    if (!FILLED_BY_SERVER.has(f.name) && !SERVER_ONLY.has(f.name) && !('default' in f)) required.push(f.name);
  }
  const admin = d.type.startsWith(ADMIN_TYPE_PREFIX);
  return {
    type: 'object',
    title: d.type,
    description:
      `${avro.doc ?? ''}${admin ? ' An admin event: only with a server key (a browser key gets a per-event error on type, EVENT_TYPE_FORBIDDEN).' : ''}`.trim(),
    properties,
    required,
    additionalProperties: false,
    ...(admin ? { 'x-tally-server-key-only': true } : {}),
  };
}

const schemaName = (d: EventDefinition) => String((d.avroSchema as { name: string }).name);

const fieldError = {
  type: 'object',
  properties: {
    index: { type: 'integer', minimum: 0, description: 'Position of the event in the request (0 for a single event)' },
    field: {
      type: 'string',
      description:
        'The field at fault (a dotted path for a map entry); "type" for an unknown or forbidden event type, "(event)" for a non-object',
    },
    reason: { type: 'string', description: 'Reads as "<field> <reason>"' },
  },
  required: ['index', 'field', 'reason'],
};
const errorBody = (description: string, perEvent = false) => ({
  description,
  type: 'object',
  properties: {
    error: {
      type: 'object',
      properties: { code: { type: 'string' }, message: { type: 'string', description: 'Names the field, header or limit at fault' } },
      required: ['code', 'message'],
    },
    ...(perEvent ? { errors: { type: 'array', items: fieldError } } : {}),
  },
  required: ['error'],
});

/** The named component schemas: one per event type (the discriminator needs names), the union and the batch. */
export function componentSchemas(maxEvents: number): Record<string, Json> {
  const defs = eventDefinitions();
  const out: Record<string, Json> = {};
  for (const d of defs) out[schemaName(d)] = eventSchema(d);
  out.Event = {
    description: 'One event; `type` says which schema applies.',
    oneOf: defs.map((d) => ref(schemaName(d))),
    discriminator: {
      propertyName: 'type',
      mapping: Object.fromEntries(defs.map((d) => [d.type, `#/components/schemas/${schemaName(d)}`])),
    },
  };
  out.EventBatch = {
    type: 'object',
    description: `A batch: each event is validated on its own; valid events are accepted even when others in the batch are not (they come back in errors). At most ${maxEvents} events.`,
    properties: {
      user_token: {
        type: 'string',
        pattern: USER_TOKEN_PATTERN,
        description:
          "v1.<user_id>.<expires>.<signature>, signed by the web app's back end: proves that the events' user_id is the signed-in user (needed with a browser key; a server key is trusted). The same may come in the X-Tally-User-Token header.",
      },
      events: { type: 'array', minItems: 1, maxItems: maxEvents, items: ref('Event') },
    },
    required: ['events'],
    additionalProperties: false,
  };
  return out;
}

/** Route schema for POST /v1/events: documentation only (validation is validateEvent, per event). */
export function eventsRouteSchema(maxEvents: number, bodyLimit: number): Json {
  return {
    summary: 'Send one event or a batch',
    description:
      `One event object, or {"events": [...], "user_token"?: "..."} with 1 to ${maxEvents} events, at most ${bodyLimit} bytes (after gzip decompression). JSON, gzip-compressed JSON (Content-Encoding: gzip), ` +
      'or text/plain carrying JSON (navigator.sendBeacon). Each event is validated on its own against its schema: valid ones are accepted even when others in the ' +
      "same batch are not. The schemas state every rule the server enforces; the one rule JSON Schema cannot express (a client time at most 1 day after the server's received_at) is the x-tally-time extension. " +
      'Fields marked x-tally-server-key-only need a server key. 202 means Kafka has acknowledged every accepted event. 503 means none of the request was accepted: retry it with the same event ids.',
    security: [{ bearer: [] }, { header: [] }, { query: [] }],
    consumes: ['application/json', 'text/plain'],
    headers: {
      type: 'object',
      properties: {
        [USER_TOKEN_HEADER]: {
          type: 'string',
          pattern: USER_TOKEN_PATTERN,
          description: 'The user_token of the body, as a header (the body wins when both are sent)',
        },
      },
    },
    body: { oneOf: [ref('Event'), ref('EventBatch')], 'x-tally-max-body-bytes': bodyLimit },
    response: {
      202: {
        description: 'At least one event accepted and acknowledged by Kafka; rejected ones are listed with reasons.',
        type: 'object',
        properties: {
          accepted: { type: 'integer', minimum: 1 },
          rejected: { type: 'integer', minimum: 0 },
          events: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                index: { type: 'integer', minimum: 0 },
                event_id: { type: 'string' },
                identity: {
                  type: 'string',
                  enum: ['user', 'guest'],
                  description: "Whose event it was recorded as: the user's (user_id kept) or a guest's",
                },
                notice: {
                  type: 'object',
                  description: "With a browser key, a user_id the user_token did not prove: the event was kept, as a guest's",
                  properties: { field: { type: 'string', enum: ['user_id'] }, reason: { type: 'string' } },
                  required: ['field', 'reason'],
                },
              },
              required: ['index', 'event_id', 'identity'],
            },
          },
          errors: { type: 'array', items: fieldError },
        },
        required: ['accepted', 'rejected', 'events', 'errors'],
      },
      400: errorBody(
        'Malformed body (not JSON, bad gzip, an unknown top-level field, a malformed user_token), or no valid event: errors lists each problem by index and field',
        true,
      ),
      401: errorBody('Missing or unknown write key'),
      403: errorBody(
        'Every event of the request is of a type this key may not send (EVENT_TYPE_FORBIDDEN; admin events need a server key, KEY_EVENT_TYPES narrows a key); errors lists each by index',
        true,
      ),
      413: errorBody(`Body larger than ${bodyLimit} bytes, or more than ${maxEvents} events`),
      415: errorBody('Content-Type is not application/json or text/plain, or a Content-Encoding other than gzip'),
      429: errorBody('Rate limit exceeded: counted per key for server keys, per key and client ip for browser keys; see Retry-After'),
      503: errorBody('Kafka or the schema registry is unavailable; nothing was accepted; see Retry-After'),
    },
  };
}

export function openApiInfo(maxEvents: number) {
  return {
    openapi: '3.0.3',
    info: {
      title: 'Tally ingest API',
      version: '1.0.0',
      description:
        'Event intake of the Tally pipeline. The schemas are exact: a request they allow is not refused as invalid, and one they forbid is not accepted. ' +
        'A method a path does not serve answers 405 with an Allow header (components/responses/MethodNotAllowed); an unknown path answers 404.',
    },
    components: {
      securitySchemes: {
        bearer: {
          type: 'http' as const,
          scheme: 'bearer',
          description:
            "A write key: a browser key (public, in pages) or a server key (the web app's back end; may send ip, user_agent and admin events)",
        },
        header: { type: 'apiKey' as const, in: 'header', name: 'X-Tally-Key' },
        query: { type: 'apiKey' as const, in: 'query', name: 'key', description: 'For navigator.sendBeacon, which cannot set headers' },
      },
      schemas: componentSchemas(maxEvents),
      responses: {
        MethodNotAllowed: METHOD_NOT_ALLOWED_RESPONSE,
      },
    },
  };
}
