import { ConfigError } from '@tally/config';
import { EVENT_TYPES } from '@tally/events';
import { loadIngestConfig } from './config';
import { clientEvent, testApp } from '../test/test-support';
import { signUserToken, UserTokens } from './user-token';

const NOW = Date.UTC(2026, 11, 6, 12, 0, 0);
const SECRET = 'app-secret-1';
const browser = { authorization: 'Bearer bk-1' };
const server = { authorization: 'Bearer sk-1' };
const inSeconds = (s: number) => Math.floor(NOW / 1000) + s;

async function app(env: Record<string, string> = {}) {
  return testApp({ USER_TOKEN_SECRETS: SECRET, ...env }, { now: NOW });
}

describe('what a key may send', () => {
  it('refuses admin events from a browser key: 403 when all are, per event beside accepted ones', async () => {
    const { app: a, produced } = await app();
    const admin = await a.inject({
      method: 'POST',
      url: '/v1/events',
      headers: browser,
      payload: { events: [clientEvent('featured.item.created'), clientEvent('featured.item.removed')] },
    });
    expect(admin.statusCode).toBe(403);
    expect(admin.json().error.code).toBe('EVENT_TYPE_FORBIDDEN');
    expect(admin.json().errors[0]).toEqual({
      index: 0,
      field: 'type',
      reason:
        "'featured.item.created' may not be sent with this key: it is an admin event and needs a server key (browser keys are public)",
    });

    const mixed = await a.inject({
      method: 'POST',
      url: '/v1/events',
      headers: browser,
      payload: { events: [clientEvent('movie.viewed'), clientEvent('featured.item.updated')] },
    });
    expect(mixed.statusCode).toBe(202);
    expect(mixed.json()).toMatchObject({ accepted: 1, rejected: 1, errors: [{ index: 1, field: 'type' }] });
    expect(produced.flat().map((e) => e.type)).toEqual(['movie.viewed']);

    const fromServer = await a.inject({
      method: 'POST',
      url: '/v1/events',
      headers: server,
      payload: clientEvent('featured.item.created'),
    });
    expect(fromServer.statusCode).toBe(202);
  });

  it('narrows a key to the types KEY_EVENT_TYPES lists (exact names and prefix.*)', async () => {
    const { app: a } = await app({ KEY_EVENT_TYPES: JSON.stringify({ 'sk-1': ['featured.*'], 'bk-1': ['movie.*'] }) });
    const send = (headers: Record<string, string>, type: (typeof EVENT_TYPES)[number]) =>
      a.inject({ method: 'POST', url: '/v1/events', headers, payload: clientEvent(type) }).then((r) => r.statusCode);
    expect(await send(server, 'featured.item.created')).toBe(202);
    expect(await send(server, 'movie.viewed')).toBe(403);
    expect(await send(browser, 'movie.liked')).toBe(202);
    expect(await send(browser, 'search.performed')).toBe(403);
  });

  it('stops at start with KEY_EVENT_TYPES named for an unknown key, type, or an admin event given to a browser key', () => {
    const load = (v: unknown) => () => loadIngestConfig({ BROWSER_KEYS: 'bk-1', SERVER_KEYS: 'sk-1', KEY_EVENT_TYPES: JSON.stringify(v) });
    expect(load({ 'bk-1': ['featured.item.created'] })).toThrow(
      /KEY_EVENT_TYPES: key 'bk-1…' is a browser key and may not send featured.item.created/,
    );
    expect(load({ 'nope-key': ['movie.viewed'] })).toThrow(/KEY_EVENT_TYPES: key 'nope…' is in neither BROWSER_KEYS nor SERVER_KEYS/);
    expect(load({ 'sk-1': ['movie.teleported'] })).toThrow(/'movie.teleported' names no event type/);
    expect(load({ 'sk-1': [] })).toThrow(/must be a non-empty list/);
    expect(() => loadIngestConfig({ KEY_EVENT_TYPES: '{oops' })).toThrow(ConfigError);
    expect(() => loadIngestConfig({ BROWSER_KEYS: 'k', SERVER_KEYS: 'k' })).toThrow(/is in both BROWSER_KEYS and SERVER_KEYS/);
  });
});

describe('a user_id from a browser key', () => {
  const viewed: Record<string, unknown> = { ...clientEvent('movie.viewed'), user_id: 42 };
  async function sendAs(body: Record<string, unknown>, headers: Record<string, string> = browser, env: Record<string, string> = {}) {
    const { app: a, produced } = await app(env);
    const res = await a.inject({ method: 'POST', url: '/v1/events', headers, payload: body });
    return { status: res.statusCode, body: res.json(), stored: produced.flat()[0]?.payload };
  }

  it('counts as that user with a valid token, in the body or the X-Tally-User-Token header', async () => {
    const token = signUserToken(SECRET, 42, inSeconds(3600));
    const inBody = await sendAs({ user_token: token, events: [viewed] });
    expect(inBody.status).toBe(202);
    expect(inBody.body.events[0]).toEqual({ index: 0, event_id: viewed.event_id, identity: 'user' });
    expect(inBody.stored?.user_id).toBe(42);
    const inHeader = await sendAs({ events: [viewed] }, { ...browser, 'x-tally-user-token': token });
    expect(inHeader.stored?.user_id).toBe(42);
    // Rotation: a token signed with any listed secret counts.
    const rotated = await sendAs({ user_token: signUserToken('old-secret', 42, inSeconds(60)), events: [viewed] }, browser, {
      USER_TOKEN_SECRETS: `${SECRET},old-secret`,
    });
    expect(rotated.stored?.user_id).toBe(42);
  });

  it.each([
    ['no token', undefined, 'no user_token was sent'],
    ['a forged signature', signUserToken('guessed-secret', 42, inSeconds(3600)), 'user_token has an invalid signature'],
    [
      'a token whose user id was edited',
      signUserToken(SECRET, 41, inSeconds(3600)).replace(/^v1\.41\./, 'v1.42.'),
      'user_token has an invalid signature',
    ],
    ['an expired token', signUserToken(SECRET, 42, inSeconds(-1)), 'user_token has expired'],
    [
      'a token living longer than USER_TOKEN_MAX_TTL',
      signUserToken(SECRET, 42, inSeconds(8 * 86_400)),
      'user_token expires more than 168 h ahead (USER_TOKEN_MAX_TTL)',
    ],
    ["another user's token", signUserToken(SECRET, 7, inSeconds(3600)), 'user_token is for user 7'],
  ])("is stored as a guest's event with %s, and the answer says why", async (_what, token, why) => {
    const r = await sendAs({ ...(token === undefined ? {} : { user_token: token }), events: [viewed] });
    expect(r.status).toBe(202);
    expect(r.stored).toMatchObject({ user_id: null, ip: '127.0.0.1' });
    expect(r.body.events[0]).toEqual({
      index: 0,
      event_id: viewed.event_id,
      identity: 'guest',
      notice: { field: 'user_id', reason: `was not counted as user 42: ${why}; the event is kept as a guest's` },
    });
  });

  it("is a guest's when the ingest API has no USER_TOKEN_SECRETS, and a server key's user_id is trusted as is", async () => {
    const { app: a, produced } = await testApp({}, { now: NOW });
    const res = await a.inject({
      method: 'POST',
      url: '/v1/events',
      headers: browser,
      payload: { user_token: signUserToken(SECRET, 42, inSeconds(60)), events: [viewed] },
    });
    expect(res.json().events[0].notice.reason).toMatch(/has no USER_TOKEN_SECRETS/);
    await a.inject({ method: 'POST', url: '/v1/events', headers: server, payload: viewed });
    expect(produced.flat().map((e) => e.payload.user_id)).toEqual([null, 42]);
  });

  it("refuses a user_token that is not one (the document's pattern), naming where it came from", async () => {
    for (const [body, headers, where] of [
      [{ user_token: 42, events: [viewed] }, browser, 'user_token'],
      [{ user_token: 'v2.42.1.abc', events: [viewed] }, browser, 'user_token'],
      [{ events: [viewed] }, { ...browser, 'x-tally-user-token': 'nope' }, 'X-Tally-User-Token'],
    ] as const) {
      const r = await sendAs(body, headers);
      expect([r.status, r.body.error.code, r.body.error.message]).toEqual([
        400,
        'USER_TOKEN_INVALID',
        expect.stringMatching(new RegExp(`^${where} must be v1\\.<user_id>`)),
      ]);
      expect(r.stored).toBeUndefined();
    }
  });
});

describe('rate limits', () => {
  it('limits a server key per key whatever the address, a browser key per key and address', async () => {
    const { app: a } = await app({ RATE_LIMIT_MAX: '2', RATE_LIMIT_SERVER_MAX: '3' });
    const send = (headers: Record<string, string>, ip: string) =>
      a
        .inject({ method: 'POST', url: '/v1/events', remoteAddress: ip, headers, payload: clientEvent('movie.viewed') })
        .then((r) => r.statusCode);
    const fromServer = [];
    for (const ip of ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4']) fromServer.push(await send(server, ip));
    expect(fromServer).toEqual([202, 202, 202, 429]);
    const fromBrowser = [];
    for (const ip of ['10.0.0.1', '10.0.0.1', '10.0.0.1', '10.0.0.2']) fromBrowser.push(await send(browser, ip));
    expect(fromBrowser).toEqual([202, 202, 429, 202]);
  });
});

describe("the PHP package's user tokens (clients/php/tests/fixtures/user-token-vectors.json)", () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a JSON fixture outside src
  const vectors = require('../../../clients/php/tests/fixtures/user-token-vectors.json') as {
    secret: string;
    user_id: number;
    expires: number;
    token: string;
  }[];
  it.each(vectors.map((v) => [v.token, v] as const))('%s is accepted by the ingest API for its user until it expires', (_t, v) => {
    const tokens = new UserTokens([v.secret], 7 * 86_400_000);
    const justBefore = v.expires * 1000 - 60_000;
    expect(tokens.check(v.token, justBefore)).toEqual({ ok: true, userId: v.user_id });
    expect(signUserToken(v.secret, v.user_id, v.expires)).toBe(v.token);
    expect(tokens.check(v.token, v.expires * 1000)).toMatchObject({ ok: false, problem: 'expired' });
  });
});
