import fc from 'fast-check';
import { instancesOf, violationsOf, type OpenApiSchema, type Violation } from '@tally/openapi-cases';

// Requests generated from the ingest API's served OpenAPI document, for the property tests that hold
// the document and the server to the same verdicts (src/openapi.test.ts in-process, tests/security against
// a real instance). Only the document is read: the schemas, their limits and the x-tally-time extension.

type Json = Record<string, unknown>;
export type ClientEvent = Record<string, unknown>;

export interface IngestDocument {
  components: { schemas: Record<string, OpenApiSchema> };
}

export interface CaseOptions {
  /** The server clock the app runs on (x-tally-time bounds are relative to it). */
  receivedAt: number;
  /** A browser key may not send x-tally-server-key-only fields or event types. */
  keyKind: 'browser' | 'server';
}

/** The event schemas of the document, by the discriminator's mapping (event type → schema). */
export function eventSchemas(doc: IngestDocument, keyKind: CaseOptions['keyKind']): [string, OpenApiSchema][] {
  const { mapping } = (doc.components.schemas.Event as { discriminator: { mapping: Record<string, string> } }).discriminator;
  return Object.entries(mapping)
    .map(([type, ref]) => [type, doc.components.schemas[ref.split('/').pop()!]!] as [string, OpenApiSchema])
    .filter(([, s]) => keyKind === 'server' || !s['x-tally-server-key-only'])
    .map(([type, s]) => [type, keyKind === 'server' ? s : withoutServerOnlyFields(s)]);
}

function withoutServerOnlyFields(s: OpenApiSchema): OpenApiSchema {
  const properties = Object.fromEntries(Object.entries(s.properties as Json).filter(([, p]) => !(p as Json)['x-tally-server-key-only']));
  return { ...s, properties };
}

interface TimeRule {
  not_before: string;
  before?: string;
  max_after_received_at_ms?: number;
  corrected_by?: string;
}

const toMs = (v: unknown) => (typeof v === 'string' ? Date.parse(v) : (v as number));
const like = (original: unknown, ms: number) => (typeof original === 'string' ? new Date(ms).toISOString() : ms);
/** `n` folded into [lo, hi], deterministically. */
const fold = (n: number, lo: number, hi: number) => lo + (Math.abs(Math.trunc(n)) % Math.max(1, hi - lo + 1));

/**
 * Moves the generated times into the rules the document states as x-tally-time (relative to the
 * server's received_at, and the skew correction of occurred_at by sent_at), keeping their form.
 */
export function honourTimeRules(schema: OpenApiSchema, receivedAt: number): (e: ClientEvent) => ClientEvent {
  const props = schema.properties as Record<string, Json>;
  const rule = (f: string) => props[f]?.['x-tally-time'] as TimeRule | undefined;
  return (e) => {
    const out = { ...e };
    const sentRule = rule('sent_at');
    let sent: number | null = null;
    if (sentRule && out.sent_at !== undefined && out.sent_at !== null) {
      const lo = Date.parse(sentRule.not_before);
      sent = fold(toMs(out.sent_at) - lo, lo, receivedAt + (sentRule.max_after_received_at_ms ?? 0));
      out.sent_at = like(out.sent_at, sent);
    }
    const occurredRule = rule('occurred_at');
    if (occurredRule && out.occurred_at !== undefined) {
      const min = Date.parse(occurredRule.not_before);
      const ahead = occurredRule.max_after_received_at_ms ?? 0;
      // Corrected: occurred_at + (received_at - sent_at) must stay within [min, received_at + ahead].
      const lo = sent === null ? min : Math.max(min, sent - receivedAt + min);
      const hi = sent === null ? receivedAt + ahead : sent + ahead;
      out.occurred_at = like(out.occurred_at, fold(toMs(out.occurred_at) - lo, lo, hi));
    }
    return out;
  };
}

/** Events the document allows, of any type the key may send. */
export function allowedEvent(doc: IngestDocument, o: CaseOptions): fc.Arbitrary<ClientEvent> {
  return fc.oneof(...eventSchemas(doc, o.keyKind).map(([, s]) => instancesOf<ClientEvent>(s, honourTimeRules(s, o.receivedAt))));
}

export interface ForbiddenEvent {
  event: ClientEvent;
  violation: Violation;
}

/** An allowed event with one documented constraint broken: wrong type, out of range, too long, missing, extra… */
export function forbiddenEvent(doc: IngestDocument, o: CaseOptions): fc.Arbitrary<ForbiddenEvent> {
  const full = new Map(eventSchemas(doc, 'server'));
  return fc.oneof(
    ...eventSchemas(doc, o.keyKind).map(([type, s]) => {
      const violations = [
        ...violationsOf(s),
        ...timeViolations(s, o.receivedAt),
        ...(o.keyKind === 'browser' ? serverOnlyViolations(full.get(type)!) : []),
      ];
      return fc
        .tuple(instancesOf<ClientEvent>(s, honourTimeRules(s, o.receivedAt)), fc.constantFrom(...violations))
        .map(([event, violation]) => ({ event: violation.apply(event), violation }));
    }),
  );
}

/** A browser key sending a field marked x-tally-server-key-only, with a value a server key could send. */
function serverOnlyViolations(schema: OpenApiSchema): Violation[] {
  const valid: Record<string, unknown> = { ip: '203.0.113.7', user_agent: 'Mozilla/5.0' };
  return Object.entries(schema.properties as Record<string, Json>)
    .filter(([, p]) => p['x-tally-server-key-only'])
    .map(([field]) => ({ field, keyword: 'x-tally-server-key-only', apply: (e: ClientEvent) => ({ ...e, [field]: valid[field] ?? 'x' }) }));
}

/** The x-tally-time bounds broken one at a time (the document's relative rule, which JSON Schema cannot carry). */
function timeViolations(schema: OpenApiSchema, receivedAt: number): Violation[] {
  const props = schema.properties as Record<string, Json>;
  const out: Violation[] = [];
  for (const field of ['occurred_at', 'sent_at']) {
    const rule = props[field]?.['x-tally-time'] as TimeRule | undefined;
    if (rule?.max_after_received_at_ms === undefined) continue;
    const late = receivedAt + rule.max_after_received_at_ms + 60_000;
    // Without sent_at, so the correction does not move occurred_at back.
    out.push({ field, keyword: 'x-tally-time', apply: (e) => ({ ...e, sent_at: null, [field]: late }) });
  }
  return out;
}
