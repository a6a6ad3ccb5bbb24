import { eventDefinitions, type AvroSchema } from '@tally/events';
import { SERVER_SET_FIELDS } from './enrich';

type Json = Record<string, unknown>;

// Envelope fields the client may leave out (the server fills them) or must not send at all.
const OPTIONAL_FOR_CLIENT = new Set(['event_id', 'occurred_at', 'sent_at', 'user_id', 'ip', 'user_agent']);
const SERVER_SET = new Set(SERVER_SET_FIELDS);

function jsonType(t: unknown): Json {
  if (typeof t === 'string') {
    return (
      { string: { type: 'string' }, int: { type: 'integer' }, long: { type: 'integer' }, boolean: { type: 'boolean' }, null: { type: 'null' }, double: { type: 'number' }, float: { type: 'number' } } as Record<string, Json>
    )[t] ?? {};
  }
  if (Array.isArray(t)) return { anyOf: t.map(jsonType) };
  const o = t as Json;
  if (o.logicalType === 'timestamp-millis') return { oneOf: [{ type: 'string', format: 'date-time' }, { type: 'integer', description: 'epoch milliseconds' }] };
  if (o.type === 'enum') return { type: 'string', enum: o.symbols };
  if (o.type === 'map') return { type: 'object', additionalProperties: jsonType(o.values) };
  return jsonType(o.type);
}

/** The JSON a client sends for one event type, derived from its Avro schema (the one source of truth). */
function clientSchema(type: string, avro: AvroSchema): Json {
  const fields = (avro as unknown as { doc?: string; fields: { name: string; type: unknown; doc?: string }[] });
  const properties: Json = { type: { type: 'string', enum: [type] } };
  const required = ['type'];
  for (const f of fields.fields) {
    if (SERVER_SET.has(f.name)) continue;
    properties[f.name] = { ...jsonType(f.type), ...(f.doc ? { description: f.doc } : {}) };
    if (!OPTIONAL_FOR_CLIENT.has(f.name) && !(Array.isArray(f.type) && f.type.includes('null'))) required.push(f.name);
  }
  return { type: 'object', title: type, description: fields.doc, properties, required, additionalProperties: false };
}

const fieldError = {
  type: 'object',
  properties: { index: { type: 'integer' }, field: { type: 'string' }, reason: { type: 'string' } },
  required: ['index', 'field', 'reason'],
};
const errorBody = (description: string) => ({
  description,
  type: 'object',
  properties: { error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } } }, errors: { type: 'array', items: fieldError } },
});

/** Route schema for POST /v1/events: documentation only (validation is validateEvent, per event). */
export function eventsRouteSchema(maxEvents: number): Json {
  const event = { oneOf: eventDefinitions().map((d) => clientSchema(d.type, d.avroSchema)) };
  return {
    summary: 'Send one event or a batch',
    description:
      `One event object, or {"events": [...]} with at most ${maxEvents} events. JSON, gzip-compressed JSON (Content-Encoding: gzip), ` +
      'or text/plain carrying JSON (navigator.sendBeacon). Each event is validated on its own: valid ones are accepted even when others in the ' +
      'same batch are not. 202 means Kafka has acknowledged every accepted event. 503 means none of the request was accepted: retry it with the same event ids.',
    security: [{ bearer: [] }, { header: [] }, { query: [] }],
    body: { oneOf: [event, { type: 'object', properties: { events: { type: 'array', items: event, maxItems: maxEvents } }, required: ['events'] }] },
    response: {
      202: {
        description: 'At least one event accepted and acknowledged by Kafka; rejected ones are listed with reasons.',
        type: 'object',
        properties: {
          accepted: { type: 'integer' },
          rejected: { type: 'integer' },
          events: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                index: { type: 'integer' },
                event_id: { type: 'string' },
                identity: { type: 'string', enum: ['user', 'guest'], description: 'Whose event it is stored as: a browser key\'s user_id counts only with a valid user_token' },
                notice: { type: 'object', properties: { field: { type: 'string' }, reason: { type: 'string' } }, required: ['field', 'reason'], description: 'Why a user_id sent with a browser key was not counted (the event is kept as a guest\'s)' },
              },
            },
          },
          errors: { type: 'array', items: fieldError },
        },
      },
      400: errorBody('Malformed body, bad gzip, or no valid event (errors lists each problem by index and field)'),
      401: errorBody('Missing or unknown write key'),
      413: errorBody('Body larger than the limit, or more events than allowed per request'),
      415: errorBody('Content-Type is not application/json or text/plain'),
      429: errorBody('Rate limit for this key and ip exceeded; see Retry-After'),
      503: errorBody('Kafka or the schema registry is unavailable; nothing was accepted; see Retry-After'),
    },
  };
}

export const openApiInfo = {
  openapi: '3.0.3',
  info: { title: 'Tally ingest API', version: '1.0.0', description: 'Event intake of the Tally pipeline.' },
  components: {
    securitySchemes: {
      bearer: { type: 'http' as const, scheme: 'bearer' },
      header: { type: 'apiKey' as const, in: 'header', name: 'X-Tally-Key' },
      query: { type: 'apiKey' as const, in: 'query', name: 'key' },
    },
  },
};
