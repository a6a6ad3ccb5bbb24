import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import type { KeyKind } from '../src/auth';
import { fuzzEvent, validEvent, type FuzzEvent } from './fuzz-payloads';

// Whole requests to POST /v1/events: bodies in every encoding the API takes and many it does not,
// each with the answer it must get. `answerProblems` checks an answer against that, for the
// in-process fuzz (src/fuzz.test.ts) and the fuzz of the real process (tests/security/ingest-fuzz.test.ts).

export interface FuzzLimits {
  keys: Record<KeyKind, string>;
  maxEvents: number;
  bodyLimit: number;
}

export interface FuzzRequest {
  kind: string;
  /** Browser keys send no user token here: every user_id of theirs must be kept as a guest's. */
  keyKind: KeyKind;
  /** Path and query: `/v1/events`, or `/v1/events?key=…` (sendBeacon cannot set headers). */
  url: string;
  headers: Record<string, string>;
  body: Buffer;
  /** Generated payloads in the body: its events, or 1 for a body that is not a batch. */
  payloads: number;
  /** Well-formed bodies: the events in order, each answered on its own. */
  events?: FuzzEvent[];
  /** Bodies refused as a whole: the status and the error codes allowed. */
  expect?: { status: number; codes: readonly string[] };
}

/** The statuses the API documents for this route, minus 401/429/503 (the fuzz sends valid keys, slowly enough, to a healthy Kafka). */
export const FUZZ_STATUSES = new Set([202, 400, 403, 413, 415]);

const JSON_TYPES = ['application/json', 'application/json; charset=utf-8', 'text/plain', 'text/plain;charset=UTF-8'];
const WRONG_TYPES = [
  'application/octet-stream',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'text/html',
  'application/xml',
  'application/vnd.api+json',
  '',
];
const WRONG_ENCODINGS = ['deflate', 'br', 'compress', 'identity', 'x-gzip', 'gzip, deflate', 'zstd'];
const MALFORMED = [
  '',
  '   ',
  '{',
  '{"events":[',
  '{"type":"movie.viewed",}',
  "{'type':'movie.viewed'}",
  'NaN',
  '\uFEFF{"type":"movie.viewed"}',
  '{"__proto__":{"polluted":1}}',
  '{"constructor":{"prototype":{"polluted":1}}}',
  '{"type":"movie.viewed"}{"type":"movie.viewed"}',
];

type Shape = Pick<FuzzRequest, 'kind' | 'payloads' | 'events' | 'expect'> & {
  json: string;
  contentType?: string;
  encoding?: 'gzip' | 'bad-gzip' | string;
};

function shapes(keyKind: KeyKind, l: FuzzLimits): fc.Arbitrary<Shape> {
  // size 'max': batch lengths spread over 1..maxEvents, not fast-check's default of a few items.
  const batch = fc.array(fuzzEvent(keyKind), { minLength: 1, maxLength: l.maxEvents, size: 'max' });
  const one = (contentType: fc.Arbitrary<string>, encoding: fc.Arbitrary<string | undefined>) =>
    fc
      .tuple(validEvent(keyKind), contentType, encoding)
      .map(([e, ct, enc]) => ({ json: JSON.stringify(e), payloads: 1, contentType: ct, encoding: enc }));
  const jsonType = fc.constantFrom(...JSON_TYPES);
  return fc.oneof(
    {
      weight: 16,
      arbitrary: fc.tuple(batch, jsonType, fc.boolean()).map(([events, ct, gzip]) => ({
        kind: 'batch',
        events,
        payloads: events.length,
        json: JSON.stringify({ events: events.map((e) => e.event) }),
        contentType: ct,
        ...(gzip ? { encoding: 'gzip' } : {}),
      })),
    },
    {
      weight: 4,
      arbitrary: fc
        .tuple(fuzzEvent(keyKind, true), jsonType)
        .map(([e, ct]) => ({ kind: 'single', events: [e], payloads: 1, json: JSON.stringify(e.event), contentType: ct })),
    },
    {
      weight: 1,
      arbitrary: fc.array(validEvent(keyKind), { minLength: l.maxEvents + 1, maxLength: l.maxEvents + 20 }).map((events) => ({
        kind: 'too-many-events',
        payloads: events.length,
        json: JSON.stringify({ events }),
        contentType: 'application/json',
        expect: { status: 413, codes: ['TOO_MANY_EVENTS'] },
      })),
    },
    {
      weight: 1,
      arbitrary: fc
        .oneof(
          fc.constantFrom(...MALFORMED),
          fc.string(),
          fc.string({ unit: 'binary' }).map((s) => `{"type":"${s}`),
        )
        .map((s) => ({
          kind: 'malformed',
          payloads: 1,
          json: s,
          contentType: 'application/json',
          expect: { status: 400, codes: ['JSON_INVALID', 'BODY_EMPTY', 'BODY_INVALID', 'VALIDATION_FAILED'] },
        })),
    },
    {
      weight: 1,
      arbitrary: fc
        .oneof(
          fc.json().filter((s) => !s.startsWith('{')),
          fc.constantFrom('{"events":"x"}', '{"events":{}}', '{"events":[]}', '{"events":null}'),
        )
        .map((s) => ({
          kind: 'not-an-event-body',
          payloads: 1,
          json: s,
          contentType: 'application/json',
          expect: { status: 400, codes: ['BODY_INVALID'] },
        })),
    },
    {
      weight: 1,
      arbitrary: one(fc.constantFrom(...WRONG_TYPES), fc.constant(undefined)).map((s) => ({
        ...s,
        kind: 'content-type',
        expect: { status: 415, codes: ['CONTENT_TYPE_UNSUPPORTED'] },
      })),
    },
    {
      weight: 1,
      arbitrary: one(fc.constant('application/json'), fc.constantFrom(...WRONG_ENCODINGS)).map((s) => ({
        ...s,
        kind: 'content-encoding',
        expect: { status: 415, codes: ['ENCODING_UNSUPPORTED'] },
      })),
    },
    {
      weight: 1,
      arbitrary: one(fc.constant('application/json'), fc.constant('bad-gzip')).map((s) => ({
        ...s,
        kind: 'bad-gzip',
        expect: { status: 400, codes: ['GZIP_INVALID'] },
      })),
    },
    // Over the limit as sent, or only once decompressed (a gzip bomb): 413 either way.
    {
      weight: 1,
      arbitrary: fc.tuple(validEvent(keyKind), fc.integer({ min: 1, max: l.bodyLimit }), fc.boolean()).map(([e, extra, gzip]) => ({
        kind: 'too-large',
        payloads: 1,
        json: JSON.stringify({ ...e, pad: 'z'.repeat(l.bodyLimit + extra) }),
        contentType: 'application/json',
        ...(gzip ? { encoding: 'gzip' } : {}),
        expect: { status: 413, codes: ['BODY_TOO_LARGE'] },
      })),
    },
  );
}

export function fuzzRequest(l: FuzzLimits): fc.Arbitrary<FuzzRequest> {
  const byKey = (keyKind: KeyKind) => fc.tuple(shapes(keyKind, l), fc.constant(keyKind), fc.constantFrom('bearer', 'header', 'query'));
  return fc.oneof(byKey('browser'), byKey('server')).map(([s, keyKind, auth]) => {
    const key = l.keys[keyKind];
    const raw = Buffer.from(s.json);
    const body = s.encoding === 'gzip' ? gzipSync(raw) : s.encoding === 'bad-gzip' ? gzipSync(raw).subarray(0, 12) : raw;
    const headers: Record<string, string> = {
      ...(s.contentType ? { 'content-type': s.contentType } : {}),
      ...(s.encoding ? { 'content-encoding': s.encoding === 'bad-gzip' ? 'gzip' : s.encoding } : {}),
      ...(auth === 'bearer' ? { authorization: `Bearer ${key}` } : auth === 'header' ? { 'x-tally-key': key } : {}),
    };
    // A body past the limit (as sent or decompressed) is refused before it is parsed; only a refused
    // Content-Type or Content-Encoding comes first, as the body is not read at all then.
    const readsBody = s.kind !== 'content-type' && s.kind !== 'content-encoding';
    const tooLarge = readsBody && Math.max(raw.length, body.length) > l.bodyLimit;
    const refusedJson = readsBody && !tooLarge && s.kind !== 'bad-gzip' && poisoned(s.json);
    return {
      kind: s.kind,
      keyKind,
      url: auth === 'query' ? `/v1/events?key=${encodeURIComponent(key)}` : '/v1/events',
      headers,
      body,
      payloads: s.payloads,
      ...(tooLarge
        ? { expect: { status: 413, codes: ['BODY_TOO_LARGE'] } }
        : refusedJson
          ? { expect: { status: 400, codes: ['JSON_INVALID'] } }
          : s.expect
            ? { expect: s.expect }
            : { events: s.events! }),
    };
  });
}

/**
 * Whether fastify's JSON parser (secure-json-parse) refuses the body as prototype poisoning: a
 * "__proto__" key anywhere, or a "constructor" object with a "prototype" key. fast-check generates
 * such keys on purpose; the API refuses the whole body (400 JSON_INVALID), valid events included.
 */
function poisoned(json: string): boolean {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return false;
  }
  const walk = (v: unknown): boolean => {
    if (v === null || typeof v !== 'object') return false;
    if (Object.prototype.hasOwnProperty.call(v, '__proto__')) return true;
    const ctor = (v as Record<string, unknown>).constructor;
    if (
      Object.prototype.hasOwnProperty.call(v, 'constructor') &&
      ctor !== null &&
      typeof ctor === 'object' &&
      Object.prototype.hasOwnProperty.call(ctor, 'prototype')
    )
      return true;
    return Object.values(v).some(walk);
  };
  return walk(value);
}

interface Answer {
  accepted?: number;
  rejected?: number;
  events?: { index: number; event_id: string; identity?: string; notice?: { field: string } }[];
  errors?: { index: number; field: string; reason: string }[];
  error?: { code?: unknown; message?: unknown };
}

const named = (s: unknown) => typeof s === 'string' && s.trim() !== '';

/** What is wrong with the API's answer to `req` (empty when nothing): statuses, codes, and per event, verdict and named field. */
export function answerProblems(req: FuzzRequest, status: number, a: Answer, l: FuzzLimits): string[] {
  if (req.expect) {
    const p: string[] = [];
    if (status !== req.expect.status || !req.expect.codes.includes(a.error?.code as string))
      p.push(`expected ${req.expect.status} ${req.expect.codes.join('|')}`);
    if (!named(a.error?.message)) p.push('no error message');
    const mustName = {
      BODY_TOO_LARGE: String(l.bodyLimit),
      TOO_MANY_EVENTS: String(l.maxEvents),
      CONTENT_TYPE_UNSUPPORTED: 'Content-Type',
      ENCODING_UNSUPPORTED: req.headers['content-encoding'] ?? '',
    }[a.error?.code as string];
    if (mustName !== undefined && !String(a.error?.message).includes(mustName)) p.push(`error message does not name ${mustName}`);
    return p;
  }
  const events = req.events!;
  const refusedWhole =
    (status === 400 && a.error?.code === 'VALIDATION_FAILED') || (status === 403 && a.error?.code === 'EVENT_TYPE_FORBIDDEN');
  if (status !== 202 && !refusedWhole) return [`status ${status} for a well-formed body`];
  const acceptedIdx = (a.events ?? []).map((e) => e.index);
  const errors = a.errors ?? [];
  const p: string[] = [];
  if ((a.accepted ?? 0) !== acceptedIdx.length || (a.accepted ?? 0) + (a.rejected ?? events.length) !== events.length)
    p.push('accepted + rejected is not the number of events');
  if (new Set(acceptedIdx).size !== acceptedIdx.length) p.push('an event accepted twice');
  const refused = new Set(errors.map((e) => e.index));
  for (const e of errors)
    if (!named(e.field) || !named(e.reason) || !(e.index >= 0 && e.index < events.length))
      p.push(`error without index, field or reason: ${JSON.stringify(e)}`);
  events.forEach((e, i) => {
    const accepted = acceptedIdx.includes(i);
    if (accepted === refused.has(i)) p.push(`event ${i} is ${accepted ? 'both accepted and refused' : 'neither accepted nor refused'}`);
    if (e.verdict === 'valid' && !accepted) p.push(`valid event ${i} refused: ${JSON.stringify(errors.filter((x) => x.index === i))}`);
    if (e.verdict === 'invalid' && !errors.some((x) => x.index === i && x.field === e.field))
      p.push(`invalid event ${i} not refused naming ${e.field}`);
  });
  for (const got of a.events ?? []) {
    const userId = (events[got.index]?.event as Record<string, unknown> | undefined)?.user_id;
    const unproven = req.keyKind === 'browser' && Number.isSafeInteger(userId) && (userId as number) > 0;
    if (unproven && (got.identity !== 'guest' || got.notice?.field !== 'user_id'))
      p.push(`event ${got.index}: a browser's user_id without a token not kept as a guest's with a notice`);
    if (!unproven && got.notice !== undefined) p.push(`event ${got.index}: a notice without cause`);
  }
  return p;
}
