import { createHmac, randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { RegistryCodec } from '@tally/kafka';
import { clientEvent } from '../query-api/world';
import { env } from '../helpers/env';
import type { ServiceProcess } from '../helpers/process';
import { startIngest, testPort } from '../helpers/services';
import { isolatedEnvironment, type Isolated } from '../event-logger/harness';
import { PrivateRedis } from '../flusher/support';
import { readToEnd, secret, unfinishedBody } from './support';

// The ingest API's edge as a real process: who may write, what a browser key may claim, how much
// one client may send, and how large a request may be. Every event answered 202 is collected, and the
// last test checks that Kafka holds exactly those: nothing refused here got through.
const KEYS = { browser: secret('bk'), server: secret('sk') };
const TOKEN_SECRET = secret('user-token');
/** The web app's side of a user token, written from the format in the docs (not the server's code). */
const userToken = (key: string, userId: number, expires: number) =>
  `v1.${userId}.${expires}.${createHmac('sha256', key).update(`v1.${userId}.${expires}`).digest('base64url')}`;
const BODY_LIMIT = 65_536;
const MAX_EVENTS = 50;
const port = testPort(25900);
const accepted = new Set<string>();
let iso: Isolated;
let main: { proc: ServiceProcess; url: string };
const procs: ServiceProcess[] = [];
const limits = new PrivateRedis(25950);

beforeAll(async () => {
  iso = await isolatedEnvironment();
  main = await startIngest({
    PORT: String(port),
    TOPIC_PREFIX: iso.prefix,
    BROWSER_KEYS: KEYS.browser,
    SERVER_KEYS: KEYS.server,
    USER_TOKEN_SECRETS: TOKEN_SECRET,
    BODY_LIMIT_BYTES: String(BODY_LIMIT),
    MAX_EVENTS_PER_REQUEST: String(MAX_EVENTS),
  });
  procs.push(main.proc);
}, 120_000);
afterAll(async () => {
  await Promise.all(procs.map((p) => p.kill()));
  await limits.stop();
  await iso?.cleanup();
}, 60_000);

async function post(headers: Record<string, string>, body: unknown, url = main.url, path = '/v1/events') {
  const res = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: Buffer.isBuffer(body) ? body : JSON.stringify(body),
  });
  const json = (await res.json()) as {
    accepted?: number;
    events?: { event_id: string }[];
    errors?: { index: number; field: string; reason: string }[];
    error?: { code: string; message: string };
  };
  for (const e of json.events ?? []) accepted.add(e.event_id);
  return { status: res.status, retryAfter: res.headers.get('retry-after'), ...json };
}
const browser = { authorization: `Bearer ${KEYS.browser}` };
const server = { 'x-tally-key': KEYS.server };
const viewed = (fields: Record<string, unknown> = {}) => clientEvent('movie.viewed', { jav_id: 42, user_id: 7, ...fields });

describe('ingest-api edge', () => {
  it('refuses requests without a key or with a wrong one (401 naming the problem), before reading the body', async () => {
    const cases: [string, Record<string, string>, string, string?][] = [
      ['no key', {}, 'AUTH_MISSING_KEY'],
      ['empty bearer', { authorization: 'Bearer ' }, 'AUTH_MISSING_KEY'],
      ['wrong bearer', { authorization: `Bearer ${secret('guess')}` }, 'AUTH_UNKNOWN_KEY'],
      ['wrong header', { 'x-tally-key': secret('guess') }, 'AUTH_UNKNOWN_KEY'],
      ['wrong query key', {}, 'AUTH_UNKNOWN_KEY', `/v1/events?key=${secret('guess')}`],
      ['key with a different case', { authorization: `Bearer ${KEYS.browser.toUpperCase()}` }, 'AUTH_UNKNOWN_KEY'],
      ['key as Basic credentials', { authorization: `Basic ${Buffer.from(`${KEYS.server}:`).toString('base64')}` }, 'AUTH_MISSING_KEY'],
    ];
    for (const [what, headers, code, path] of cases) {
      const r = await post(headers, viewed(), main.url, path);
      expect({ what, status: r.status, code: r.error?.code }).toEqual({ what, status: 401, code });
      expect(r.error?.message).toMatch(/key/);
    }
    // A gigabyte announced without a key: refused on the headers alone, not one body byte read.
    const huge = await unfinishedBody(port, '/v1/events', { 'content-type': 'application/json' }, { bytes: 0, declaredLength: 2 ** 30 });
    expect({ status: huge.status, code: JSON.parse(huge.body).error.code }).toEqual({ status: 401, code: 'AUTH_MISSING_KEY' });
  });

  it('browser keys cannot set ip or user_agent: the server takes them from the connection and headers', async () => {
    const ids = { batch: randomUUID(), spoofed: randomUUID(), byServer: randomUUID() };
    const claimIp = await post(browser, {
      events: [viewed({ ip: '203.0.113.99' }), viewed({ user_agent: 'Googlebot/2.1' }), viewed({ event_id: ids.batch })],
    });
    expect(claimIp.status).toBe(202);
    expect(claimIp.accepted).toBe(1);
    expect(claimIp.errors).toEqual([
      { index: 0, field: 'ip', reason: 'may only be sent with a server key' },
      { index: 1, field: 'user_agent', reason: 'may only be sent with a server key' },
    ]);
    // X-Forwarded-For from a peer that is not a configured proxy (none by default) is not believed.
    const spoof = await post(
      { ...browser, 'x-forwarded-for': '198.51.100.200', 'user-agent': 'Mozilla/5.0 (security test) Firefox/128.0' },
      viewed({ event_id: ids.spoofed }),
    );
    expect(spoof.status).toBe(202);
    expect(
      (await post(server, viewed({ event_id: ids.byServer, ip: '203.0.113.99', user_agent: 'Laravel/11 on behalf of a user' }))).status,
    ).toBe(202);

    const codec = new RegistryCodec(env.SCHEMA_REGISTRY_URL);
    const stored = new Map<string, Record<string, unknown>>();
    for (const r of await readToEnd(iso.names.eventTopics)) {
      const { value } = await codec.decode<Record<string, unknown>>(r.value);
      stored.set(value.event_id as string, value);
    }
    expect(stored.get(ids.batch)).toMatchObject({ ip: '127.0.0.1' });
    expect(stored.get(ids.spoofed)).toMatchObject({ ip: '127.0.0.1', user_agent: 'Mozilla/5.0 (security test) Firefox/128.0' });
    expect(stored.get(ids.byServer)).toMatchObject({ ip: '203.0.113.99', user_agent: 'Laravel/11 on behalf of a user' });
  });

  it('browser keys cannot send admin events, and their user_id counts only with a valid user token', async () => {
    const admin = await post(browser, { events: [clientEvent('featured.item.created', {}), clientEvent('featured.item.removed', {})] });
    expect({ status: admin.status, code: admin.error?.code, fields: admin.errors?.map((e) => e.field) }).toEqual({
      status: 403,
      code: 'EVENT_TYPE_FORBIDDEN',
      fields: ['type', 'type'],
    });

    const now = Math.floor(Date.now() / 1000);
    const cases = {
      unsigned: { events: [viewed({ event_id: randomUUID() })] },
      forged: { user_token: userToken('not-the-secret', 7, now + 600), events: [viewed({ event_id: randomUUID() })] },
      expired: { user_token: userToken(TOKEN_SECRET, 7, now - 1), events: [viewed({ event_id: randomUUID() })] },
      otherUser: { user_token: userToken(TOKEN_SECRET, 8, now + 600), events: [viewed({ event_id: randomUUID() })] },
      signed: { user_token: userToken(TOKEN_SECRET, 7, now + 600), events: [viewed({ event_id: randomUUID() })] },
    };
    const answers: Record<string, unknown> = {};
    for (const [name, body] of Object.entries(cases)) {
      const r = await post(browser, body);
      answers[name] = { status: r.status, identity: (r.events?.[0] as { identity?: string } | undefined)?.identity };
    }
    expect(answers).toEqual({
      unsigned: { status: 202, identity: 'guest' },
      forged: { status: 202, identity: 'guest' },
      expired: { status: 202, identity: 'guest' },
      otherUser: { status: 202, identity: 'guest' },
      signed: { status: 202, identity: 'user' },
    });

    const codec = new RegistryCodec(env.SCHEMA_REGISTRY_URL);
    const stored = new Map<string, Record<string, unknown>>();
    for (const r of await readToEnd(iso.names.eventTopics)) {
      const { value } = await codec.decode<Record<string, unknown>>(r.value);
      stored.set(value.event_id as string, value);
    }
    const userOf = Object.fromEntries(
      Object.entries(cases).map(([name, body]) => [name, stored.get(body.events[0]!.event_id as string)?.user_id]),
    );
    expect(userOf).toEqual({ unsigned: null, forged: null, expired: null, otherUser: null, signed: 7 });
  });

  it('rate limit per key and ip holds, refused keys included; another key keeps its own budget', async () => {
    // A Redis of its own: the limit state is shared by every instance on a Redis, and this file's
    // other requests (wrong keys included) must not have spent this instance's budgets already.
    await limits.start();
    const limited = await startIngest({
      PORT: String(port + 1),
      TOPIC_PREFIX: iso.prefix,
      BROWSER_KEYS: KEYS.browser,
      SERVER_KEYS: KEYS.server,
      RATE_LIMIT_MAX: '5',
      RATE_LIMIT_SERVER_MAX: '5',
      RATE_LIMIT_WINDOW: '10m',
      REDIS_URL: limits.url,
    });
    procs.push(limited.proc);
    const statuses = async (n: number, headers: () => Record<string, string>) => {
      const out: number[] = [];
      for (let i = 0; i < n; i++) out.push((await post(headers(), viewed(), limited.url)).status);
      return out;
    };
    expect(await statuses(8, () => browser)).toEqual([202, 202, 202, 202, 202, 429, 429, 429]);
    const last = await post(browser, viewed(), limited.url);
    expect(last).toMatchObject({ status: 429, error: { code: 'RATE_LIMITED' } });
    expect(last.error!.message).toContain('rate limit of 5 requests');
    expect(Number(last.retryAfter)).toBeGreaterThan(0);
    // Guessing keys: a new wrong key per request still spends the ip's one budget for unknown keys.
    expect(await statuses(8, () => ({ authorization: `Bearer ${secret('guess')}` }))).toEqual([401, 401, 401, 401, 401, 429, 429, 429]);
    expect(await statuses(2, () => server)).toEqual([202, 202]);
  });

  it('refuses oversized bodies early with 413 naming the limit, without reading them whole', async () => {
    const declared = await unfinishedBody(
      port,
      '/v1/events',
      { ...browser, 'content-type': 'application/json' },
      { bytes: 0, declaredLength: 2 ** 30 },
    );
    expect(declared.status).toBe(413);
    expect(JSON.parse(declared.body).error).toEqual({
      code: 'BODY_TOO_LARGE',
      message: expect.stringContaining(`limit of ${BODY_LIMIT} bytes`),
    });
    // No length announced: one byte past the limit, and the body not finished, is enough for the answer.
    const chunked = await unfinishedBody(port, '/v1/events', { ...browser, 'content-type': 'application/json' }, { bytes: BODY_LIMIT + 1 });
    expect({ status: chunked.status, code: JSON.parse(chunked.body).error.code }).toEqual({ status: 413, code: 'BODY_TOO_LARGE' });
    // A gzip bomb: ~32 KiB on the wire, 32 MiB once inflated; counted as it inflates, refused at the limit.
    const bomb = gzipSync(Buffer.alloc(32 * 2 ** 20, ' '));
    const inflated = await post({ ...browser, 'content-encoding': 'gzip' }, bomb);
    expect({ status: inflated.status, code: inflated.error?.code, wire: bomb.length < BODY_LIMIT }).toEqual({
      status: 413,
      code: 'BODY_TOO_LARGE',
      wire: true,
    });
    const batch = await post(browser, { events: Array.from({ length: MAX_EVENTS + 1 }, () => viewed()) });
    expect({ status: batch.status, error: batch.error }).toEqual({
      status: 413,
      error: { code: 'TOO_MANY_EVENTS', message: `events has ${MAX_EVENTS + 1} items; at most ${MAX_EVENTS} per request` },
    });
    // Still the same healthy process, and a normal request goes through.
    expect(main.proc.child.exitCode).toBeNull();
    expect((await post(browser, viewed())).status).toBe(202);
  });

  it('Kafka holds exactly the events answered 202 in this file: nothing refused got through', async () => {
    const codec = new RegistryCodec(env.SCHEMA_REGISTRY_URL);
    const ids: string[] = [];
    for (const r of await readToEnd(iso.names.eventTopics))
      ids.push((await codec.decode<Record<string, unknown>>(r.value)).value.event_id as string);
    expect(ids.sort()).toEqual([...accepted].sort());
    expect(accepted.size).toBeGreaterThan(5);
  });
});
