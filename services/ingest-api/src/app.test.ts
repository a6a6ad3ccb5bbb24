import { gzipSync } from 'node:zlib';
import { EVENT_TYPES, validateEvent } from '@tally/events';
import { clientEvent, clientEvents, testApp } from '../test/test-support';

const NOW = Date.UTC(2026, 10, 26, 12, 0, 0);
const auth = { authorization: 'Bearer bk-1' };
// Admin events (featured.*) need a server key; the tests of every event type use one.
const server = { authorization: 'Bearer sk-1' };

describe('POST /v1/events', () => {
  it('accepts every event type, enriched, and answers 202 with the ids', async () => {
    const { app, produced } = await testApp({}, { now: NOW });
    const events = clientEvents().map((e) => ({ ...e, occurred_at: NOW - 5_000, sent_at: NOW - 1_000 }));
    const res = await app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { ...server, 'user-agent': 'Mozilla/5.0 Firefox/128.0' },
      payload: { events },
    });
    expect(res.statusCode).toBe(202);
    const body = res.json();
    expect(body).toMatchObject({ accepted: EVENT_TYPES.length, rejected: 0, errors: [] });
    expect(produced[0]!.map((e) => e.type)).toEqual([...EVENT_TYPES]);
    for (const e of produced[0]!) {
      expect(e.payload).toMatchObject({
        received_at: NOW,
        sent_at: NOW - 1_000,
        ip: '127.0.0.1',
        user_agent: 'Mozilla/5.0 Firefox/128.0',
        is_bot: false,
      });
      // Client clock 1 s behind the server's at send time: occurred_at moves forward by that skew.
      expect(e.payload.occurred_at).toBe(NOW - 4_000);
      expect(validateEvent(e.type, e.payload).ok).toBe(true);
    }
    expect(body.events[3]).toEqual({
      index: 3,
      event_id: (events[3] as Record<string, unknown>).event_id,
      identity: produced[0]![3]!.payload.user_id === null ? 'guest' : 'user',
    });
  });

  it('assigns an event id when missing, takes text/plain (sendBeacon) and ?key=', async () => {
    const { app, produced } = await testApp();
    const { event_id: _id, ...noId } = clientEvent('movie.viewed');
    const res = await app.inject({
      method: 'POST',
      url: '/v1/events?key=bk-1',
      headers: { 'content-type': 'text/plain' },
      payload: JSON.stringify(noId),
    });
    expect(res.statusCode).toBe(202);
    expect(produced[0]![0]!.payload.event_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('refuses a body holding __proto__ or constructor.prototype, JSON and text/plain alike, and produces nothing', async () => {
    // enrich copies an event's fields with Object.assign, which would set a prototype from an own
    // __proto__ key: the body parsers must never let one through.
    const { app, produced } = await testApp();
    const viewed = JSON.stringify(clientEvent('movie.viewed'));
    for (const [type, poison] of [
      ['application/json', '"__proto__": {"is_bot": true}'],
      ['text/plain', '"__proto__": {"is_bot": true}'],
      ['application/json', '"constructor": {"prototype": {"is_bot": true}}'],
    ] as const) {
      const payload = `{"events": [${viewed.replace(/^\{/, `{${poison}, `)}]}`;
      const res = await app.inject({ method: 'POST', url: '/v1/events', headers: { ...auth, 'content-type': type }, payload });
      expect(res.statusCode).toBe(400);
    }
    expect(produced).toHaveLength(0);
  });

  it('decompresses gzip bodies and rejects bad gzip with 400', async () => {
    const { app, produced } = await testApp();
    const ok = await app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { ...server, 'content-type': 'application/json', 'content-encoding': 'gzip' },
      payload: gzipSync(JSON.stringify({ events: clientEvents() })),
    });
    expect(ok.statusCode).toBe(202);
    expect(produced[0]).toHaveLength(EVENT_TYPES.length);
    const bad = await app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { ...auth, 'content-type': 'application/json', 'content-encoding': 'gzip' },
      payload: Buffer.from('not gzip at all'),
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('GZIP_INVALID');
  });

  it('in a batch, accepts the valid events and reports each invalid one by index and field', async () => {
    const { app, produced } = await testApp();
    const events = [
      clientEvent('movie.viewed'),
      { ...clientEvent('movie.rated'), rating: 9 },
      { type: 'movie.teleported', jav_id: 1 },
      { ...clientEvent('search.performed'), query: 'x'.repeat(501), entity_type: 'studio' },
      { type: 'movie.viewed' },
      { ...clientEvent('movie.viewed'), jav_id: '12' },
      { ...clientEvent('movie.viewed'), occurred_at: '1970-01-01T00:00:00Z' },
      { ...clientEvent('movie.viewed'), occurred_at: 'yesterday' },
      'not an object',
      clientEvent('tag.viewed'),
    ];
    const res = await app.inject({ method: 'POST', url: '/v1/events', headers: auth, payload: { events } });
    expect(res.statusCode).toBe(202);
    const body = res.json();
    expect(body).toMatchObject({ accepted: 2, rejected: 8 });
    expect(body.events.map((e: { index: number }) => e.index)).toEqual([0, 9]);
    expect(produced[0]!.map((e) => e.type)).toEqual(['movie.viewed', 'tag.viewed']);
    const reasons = (i: number) =>
      body.errors.filter((e: { index: number }) => e.index === i).map((e: { field: string; reason: string }) => `${e.field}: ${e.reason}`);
    expect(reasons(1)).toEqual(['rating: must be an integer from 1 to 5']);
    expect(reasons(2)[0]).toMatch(/^type: must be one of: movie\.viewed, .* \(got 'movie\.teleported'\)$/);
    expect(reasons(3)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^query: /), expect.stringMatching(/^entity_type: must be one of: movie, actor, tag/)]),
    );
    expect(reasons(4)).toEqual(['jav_id: is required']);
    expect(reasons(5)[0]).toMatch(/^jav_id: must be/);
    expect(reasons(6)).toEqual([
      'occurred_at: must be an ISO-8601 date-time with a zone, 2000 to 2099 (2026-11-26T12:00:00Z), or integer epoch milliseconds',
    ]);
    expect(reasons(7)).toEqual([
      'occurred_at: must be an ISO-8601 date-time with a zone, 2000 to 2099 (2026-11-26T12:00:00Z), or integer epoch milliseconds',
    ]);
    expect(reasons(8)).toEqual(['(event): must be an object with a "type" and the fields of that event']);
  });

  it('answers 400 with the errors when no event is valid, and for malformed JSON', async () => {
    const { app, produced } = await testApp();
    const none = await app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: auth,
      payload: { ...clientEvent('movie.rated'), rating: 0 },
    });
    expect(none.statusCode).toBe(400);
    expect(none.json()).toEqual({
      error: { code: 'VALIDATION_FAILED', message: 'no valid event in the request' },
      errors: [{ index: 0, field: 'rating', reason: 'must be an integer from 1 to 5' }],
    });
    const malformed = await app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { ...auth, 'content-type': 'application/json' },
      payload: '{"type": "movie.viewed",',
    });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().error.code).toBe('JSON_INVALID');
    const notObject = await app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { ...auth, 'content-type': 'application/json' },
      payload: '[1,2]',
    });
    expect(notObject.json().error).toEqual({
      code: 'BODY_INVALID',
      message: 'body must be a JSON object: one event, or {"events": [...]}',
    });
    expect(produced).toHaveLength(0);
  });

  it('stores SQL and HTML in strings verbatim', async () => {
    const { app, produced } = await testApp();
    const query = `'; DROP TABLE jav; -- <script>alert(1)</script>`;
    const res = await app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: auth,
      payload: { ...clientEvent('search.performed'), query, filters: { studio: '<b>S1</b>' } },
    });
    expect(res.statusCode).toBe(202);
    expect(produced[0]![0]!.payload).toMatchObject({ query, filters: { studio: '<b>S1</b>' } });
  });

  it('limits body size (413), events per request (413) and content types (415)', async () => {
    const { app } = await testApp({ BODY_LIMIT_BYTES: '2048', MAX_EVENTS_PER_REQUEST: '3' });
    const big = await app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: auth,
      payload: { ...clientEvent('search.performed'), query: 'x'.repeat(3_000) },
    });
    expect([big.statusCode, big.json().error.code]).toEqual([413, 'BODY_TOO_LARGE']);
    const many = await app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: auth,
      payload: { events: Array(4).fill(clientEvent('movie.viewed')) },
    });
    expect([many.statusCode, many.json().error.message]).toEqual([413, 'events has 4 items; at most 3 per request']);
    const xml = await app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { ...auth, 'content-type': 'application/xml' },
      payload: '<event/>',
    });
    expect([xml.statusCode, xml.json().error.code]).toEqual([415, 'CONTENT_TYPE_UNSUPPORTED']);
  });

  it('authenticates write keys: 401 naming the problem; only server keys may set ip and user agent', async () => {
    const { app, produced } = await testApp();
    const e = clientEvent('movie.viewed');
    const missing = await app.inject({ method: 'POST', url: '/v1/events', payload: e });
    expect([missing.statusCode, missing.json().error.code]).toEqual([401, 'AUTH_MISSING_KEY']);
    const wrong = await app.inject({ method: 'POST', url: '/v1/events', headers: { 'x-tally-key': 'sk-2' }, payload: e });
    expect(wrong.json().error).toEqual({ code: 'AUTH_UNKNOWN_KEY', message: 'unknown write key' });
    const browser = await app.inject({ method: 'POST', url: '/v1/events', headers: auth, payload: { ...e, ip: '8.8.8.8' } });
    expect(browser.json().errors).toEqual([{ index: 0, field: 'ip', reason: 'may only be sent with a server key' }]);
    const server = await app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { 'x-tally-key': 'sk-1', 'user-agent': 'Laravel/11' },
      payload: { ...e, ip: '198.51.100.7', user_agent: 'Googlebot/2.1 (+http://www.google.com/bot.html)' },
    });
    expect(server.statusCode).toBe(202);
    expect(produced[0]![0]!.payload).toMatchObject({
      ip: '198.51.100.7',
      user_agent: 'Googlebot/2.1 (+http://www.google.com/bot.html)',
      is_bot: true,
    });
  });

  it('rate limits per key and ip with 429 and Retry-After', async () => {
    const { app } = await testApp({ RATE_LIMIT_MAX: '3', RATE_LIMIT_WINDOW: '1m' });
    const send = (ip: string) =>
      app.inject({ method: 'POST', url: '/v1/events', remoteAddress: ip, headers: auth, payload: clientEvent('movie.viewed') });
    for (let i = 0; i < 3; i++) expect((await send('10.1.1.1')).statusCode).toBe(202);
    const limited = await send('10.1.1.1');
    expect(limited.statusCode).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.json().error.code).toBe('RATE_LIMITED');
    expect((await send('10.1.1.2')).statusCode).toBe(202); // another ip has its own budget
  });

  it('rate limits a server key per key, whatever ip its requests come from', async () => {
    const { app } = await testApp({ RATE_LIMIT_SERVER_MAX: '3', RATE_LIMIT_WINDOW: '1m' });
    const send = (ip: string) =>
      app.inject({
        method: 'POST',
        url: '/v1/events',
        remoteAddress: ip,
        headers: { authorization: 'Bearer sk-1' },
        payload: clientEvent('movie.viewed'),
      });
    for (const ip of ['10.1.1.1', '10.1.1.2', '10.1.1.3']) expect((await send(ip)).statusCode).toBe(202);
    const limited = await send('10.1.1.4');
    expect([limited.statusCode, limited.json().error.message]).toEqual([429, expect.stringContaining('exceeded for this server key')]);
  });

  it('counts unknown keys against one budget per ip, so guessing keys is limited too', async () => {
    const { app } = await testApp({ RATE_LIMIT_MAX: '3', RATE_LIMIT_WINDOW: '1m' });
    const send = (key: string) =>
      app.inject({
        method: 'POST',
        url: '/v1/events',
        remoteAddress: '10.1.1.3',
        headers: { authorization: `Bearer ${key}` },
        payload: clientEvent('movie.viewed'),
      });
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await send(`guess-${i}`)).statusCode);
    expect(statuses).toEqual([401, 401, 401, 429, 429]);
    expect((await send('bk-1')).statusCode).toBe(202); // a configured key keeps its own budget
  });

  it('names the limit, header or encoding a refused body has to change', async () => {
    const { app } = await testApp({ BODY_LIMIT_BYTES: '2048' });
    const post = (headers: Record<string, string>, payload: string | Buffer) =>
      app.inject({ method: 'POST', url: '/v1/events', headers: { ...auth, ...headers }, payload });
    expect((await post({ 'content-type': 'application/json' }, 'x'.repeat(3_000))).json().error.message).toBe(
      'body is larger than the limit of 2048 bytes (counted after any gzip decompression)',
    );
    expect((await post({ 'content-type': 'application/xml' }, '<e/>')).json().error.message).toMatch(
      /^Content-Type 'application\/xml' is not supported/,
    );
    expect((await post({ 'content-type': 'application/json', 'content-encoding': 'br' }, '{}')).json().error.message).toBe(
      "Content-Encoding 'br' is not supported; send gzip or nothing",
    );
    expect(
      (await post({ 'content-type': 'application/json', 'content-encoding': 'gzip' }, Buffer.from('not gzip'))).json().error.message,
    ).toMatch(/^body is not valid gzip: /);
  });

  it('answers 503 with Retry-After when Kafka does not acknowledge, and accepts nothing', async () => {
    const { app } = await testApp({ RETRY_AFTER_SECONDS: '7' }, { failProduce: true });
    const res = await app.inject({ method: 'POST', url: '/v1/events', headers: auth, payload: { events: clientEvents() } });
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('7');
    expect(res.json().error).toEqual({ code: 'KAFKA_UNAVAILABLE', message: 'kafka: no acknowledgement within 5000 ms' });
  });

  it('takes the client ip from X-Forwarded-For only behind a trusted proxy, and anonymizes on request', async () => {
    const trusted = await testApp({ TRUSTED_PROXIES: '127.0.0.1', ANONYMIZE_IP: 'true' });
    await trusted.app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { ...auth, 'x-forwarded-for': '203.0.113.77' },
      payload: clientEvent('movie.viewed'),
    });
    expect(trusted.produced[0]![0]!.payload.ip).toBe('203.0.113.0');
    const untrusted = await testApp();
    await untrusted.app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { ...auth, 'x-forwarded-for': '203.0.113.77' },
      payload: clientEvent('movie.viewed'),
    });
    expect(untrusted.produced[0]![0]!.payload.ip).toBe('127.0.0.1');
  });

  it('serves the OpenAPI document with every event type and the documented statuses', async () => {
    const { app } = await testApp();
    const res = await app.inject({ method: 'GET', url: '/docs/json' });
    expect(res.statusCode).toBe(200);
    const post = res.json().paths['/v1/events'].post;
    expect(Object.keys(post.responses).sort()).toEqual(['202', '400', '401', '403', '413', '415', '429', '503']);
    const { schemas } = res.json().components;
    expect(post.requestBody.content['application/json'].schema.oneOf).toEqual([
      { $ref: '#/components/schemas/Event' },
      { $ref: '#/components/schemas/EventBatch' },
    ]);
    const variants = schemas.Event.oneOf.map((r: { $ref: string }) => schemas[r.$ref.split('/').pop()!]);
    expect(variants.map((v: { title: string }) => v.title)).toEqual([...EVENT_TYPES]);
    expect(Object.keys(schemas.Event.discriminator.mapping)).toEqual([...EVENT_TYPES]);
  });

  it('allows the configured CORS origins only', async () => {
    const { app } = await testApp({ CORS_ORIGINS: 'https://www.example.com' });
    const pre = (origin: string) =>
      app.inject({ method: 'OPTIONS', url: '/v1/events', headers: { origin, 'access-control-request-method': 'POST' } });
    expect((await pre('https://www.example.com')).headers['access-control-allow-origin']).toBe('https://www.example.com');
    expect((await pre('https://evil.example.net')).headers['access-control-allow-origin']).toBeUndefined();
  });
});
