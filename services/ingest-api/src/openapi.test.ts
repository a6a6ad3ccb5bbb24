import fc from 'fast-check';
import { allows, documentProblems, instancesOf, type OpenApiSchema } from '@tally/openapi-cases';
import { allowedEvent, forbiddenEvent, type ClientEvent, type IngestDocument } from '../test/openapi-cases';
import { testApp } from '../test/test-support';

// Property: the served OpenAPI document tells the whole truth. A request it allows is accepted whole
// (202, no errors); an event with one documented constraint broken is refused, naming that field, and
// never accepted; batch limits answer 400/413 naming events, user_token or the body limit.
const RECEIVED_AT = Date.UTC(2026, 10, 26, 12);
const MAX_EVENTS = 4;
const RUNS = 400;
const keys = { browser: 'bk-1', server: 'sk-1' } as const;

let app: Awaited<ReturnType<typeof testApp>>['app'];
let doc: IngestDocument & Record<string, unknown>;

beforeAll(async () => {
  ({ app } = await testApp(
    { MAX_EVENTS_PER_REQUEST: String(MAX_EVENTS), RATE_LIMIT_MAX: '1000000', BODY_LIMIT_BYTES: '65536' },
    { now: RECEIVED_AT },
  ));
  doc = (await app.inject({ method: 'GET', url: '/docs/json' })).json();
});

const post = (keyKind: keyof typeof keys, payload: unknown, headers: Record<string, string> = {}) =>
  app.inject({
    method: 'POST',
    url: '/v1/events',
    headers: { authorization: `Bearer ${keys[keyKind]}`, 'content-type': 'application/json', ...headers },
    payload: JSON.stringify(payload),
  });

const batchSchema = () =>
  doc.components.schemas.EventBatch as OpenApiSchema & { properties: { events: { maxItems: number }; user_token: OpenApiSchema } };

describe.each(['server', 'browser'] as const)('with a %s key', (keyKind) => {
  const opts = { receivedAt: RECEIVED_AT, keyKind };

  it('accepts every request the document allows: one event, or a batch with or without user_token', async () => {
    const token = instancesOf<string>(batchSchema().properties.user_token);
    // The batch schema as the document has it, its $ref to Event resolved within the document.
    const batch = { ...batchSchema(), components: doc.components } as OpenApiSchema;
    const body = fc.oneof(
      allowedEvent(doc, opts),
      fc.record(
        {
          events: fc.array(allowedEvent(doc, opts), { minLength: 1, maxLength: batchSchema().properties.events.maxItems }),
          user_token: token,
        },
        { requiredKeys: ['events'] },
      ),
    );
    await fc.assert(
      fc.asyncProperty(body, async (b) => {
        expect(allows(batch, 'events' in b ? b : { events: [b] })).toBe(true);
        const res = await post(keyKind, b);
        const n = 'events' in b ? (b.events as ClientEvent[]).length : 1;
        expect({ status: res.statusCode, body: res.json() }).toMatchObject({ status: 202, body: { accepted: n, rejected: 0, errors: [] } });
      }),
      { numRuns: RUNS },
    );
  });

  it('refuses every event with one documented constraint broken, naming the field, and accepts none of them', async () => {
    const kept = allowedEvent(doc, opts);
    await fc.assert(
      fc.asyncProperty(
        forbiddenEvent(doc, opts),
        fc.array(kept, { maxLength: MAX_EVENTS - 1 }),
        fc.nat(),
        async ({ event, violation }, others, at) => {
          const index = others.length === 0 ? 0 : at % (others.length + 1);
          const events = [...others.slice(0, index), event, ...others.slice(index)];
          const res = await post(keyKind, { events });
          const answer = res.json();
          const context = `${violation.keyword} of ${violation.field}: ${JSON.stringify(event).slice(0, 400)} → ${res.statusCode} ${res.body.slice(0, 600)}`;
          expect([others.length === 0 ? 400 : 202, context]).toEqual([res.statusCode, context]);
          const named = (answer.errors as { index: number; field: string }[]).filter((e) => e.index === index).map((e) => e.field);
          expect([named.some((f) => f === violation.field || f.startsWith(`${violation.field}.`)), context]).toEqual([true, context]);
          expect((answer.events ?? []).map((e: { index: number }) => e.index)).not.toContain(index);
        },
      ),
      { numRuns: RUNS },
    );
  });
});

it('serves a valid OpenAPI 3.0 document', async () => {
  expect(await documentProblems(doc)).toEqual([]);
});

it('refuses featured.* events from a browser key per event (field "type"; 403 EVENT_TYPE_FORBIDDEN when all are), as the document marks them', async () => {
  const admin = allowedEvent(doc, { receivedAt: RECEIVED_AT, keyKind: 'server' }).filter((e) => String(e.type).startsWith('featured.'));
  const user = allowedEvent(doc, { receivedAt: RECEIVED_AT, keyKind: 'browser' });
  await fc.assert(
    fc.asyncProperty(admin, fc.option(user, { nil: undefined }), async (event, other) => {
      const schema = Object.values(doc.components.schemas).find(
        (c) => (c as { properties?: { type?: { enum?: unknown[] } } }).properties?.type?.enum?.[0] === event.type,
      ) as Record<string, unknown> | undefined;
      expect(schema?.['x-tally-server-key-only']).toBe(true);
      const res = await post('browser', { events: other ? [event, other] : [event] });
      const answer = res.json();
      expect(res.statusCode).toBe(other ? 202 : 403);
      if (!other) expect(answer.error.code).toBe('EVENT_TYPE_FORBIDDEN');
      expect(answer.errors).toEqual([expect.objectContaining({ index: 0, field: 'type' })]);
      expect((answer.events ?? []).map((e: { index: number }) => e.index)).toEqual(other ? [1] : []);
    }),
    { numRuns: 100 },
  );
});

describe('batch limits', () => {
  const opts = { receivedAt: RECEIVED_AT, keyKind: 'server' as const };
  const one = () => fc.sample(allowedEvent(doc, opts), { numRuns: 1, seed: 7 })[0]!;

  it('refuses more events than maxItems (413) and none (400), naming events', async () => {
    const max = batchSchema().properties.events.maxItems;
    const tooMany = await post('server', { events: Array.from({ length: max + 1 }, one) });
    expect(tooMany.statusCode).toBe(413);
    expect(tooMany.json().error.message).toMatch(/^events has 5 items; at most 4/);
    const none = await post('server', { events: [] });
    expect(none.statusCode).toBe(400);
    expect(none.json().error.message).toMatch(/^events must not be empty/);
  });

  it('refuses a field the batch does not have and a user_token off the pattern, in the body or the header', async () => {
    const extra = await post('server', { events: [one()], x_extra: 1 });
    expect([extra.statusCode, extra.json().error.message]).toEqual([400, expect.stringMatching(/^x_extra: not a field of a batch/)]);
    const token = await post('server', { events: [one()], user_token: 'v1.0.1.sig' });
    expect([token.statusCode, token.json().error]).toEqual([
      400,
      { code: 'USER_TOKEN_INVALID', message: expect.stringMatching(/^user_token must be/) },
    ]);
    const header = await post('server', { events: [one()] }, { 'x-tally-user-token': 'v2.7.1.sig' });
    expect([header.statusCode, header.json().error.message]).toEqual([400, expect.stringMatching(/^X-Tally-User-Token must be/)]);
  });

  it('refuses a body over x-tally-max-body-bytes with 413', async () => {
    const limit = (doc.paths as Record<string, { post: { requestBody: { content: Record<string, { schema: Record<string, number> }> } } }>)[
      '/v1/events'
    ]!.post.requestBody.content['application/json']!.schema['x-tally-max-body-bytes']!;
    const res = await post('server', { ...one(), query: 'x'.repeat(limit) });
    expect([res.statusCode, res.json().error.code]).toEqual([413, 'BODY_TOO_LARGE']);
  });
});

describe('methods not served', () => {
  it.each([
    ['GET', '/v1/events', 'POST, OPTIONS'],
    ['DELETE', '/v1/events', 'POST, OPTIONS'],
    ['POST', '/healthz', 'GET, HEAD, OPTIONS'],
  ])('%s %s answers 405 with Allow: %s', async (method, url, allow) => {
    const res = await app.inject({ method: method as 'GET', url });
    expect([res.statusCode, res.headers.allow, res.json().error.code]).toEqual([405, allow, 'METHOD_NOT_ALLOWED']);
  });

  it('answers 404 for an unknown path, and documents 405', async () => {
    expect((await app.inject({ method: 'GET', url: '/v1/nothing' })).statusCode).toBe(404);
    expect((doc.components as Record<string, Record<string, unknown>>).responses!.MethodNotAllowed).toMatchObject({
      headers: { Allow: expect.any(Object) },
    });
  });
});
