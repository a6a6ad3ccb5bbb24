import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { webcrypto } from 'node:crypto';
import { runInNewContext } from 'node:vm';

const SOURCE = readFileSync(join(__dirname, 'tally-beacon.js'), 'utf8');
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

interface Sent {
  via: 'beacon' | 'fetch';
  url: string;
  type: string;
  events: Array<Record<string, unknown>>;
  userToken?: string;
  keepalive?: boolean;
}

interface Tally {
  init(config: Record<string, unknown>): void;
  track(event: Record<string, unknown>): void;
  flush(): void;
}

/**
 * Loads the script into a new V8 context whose only globals are a fake window and the few browser
 * built-ins it declares (Blob, timers); anything else it reached for would be undefined and throw.
 */
function loadBeacon(options: { beaconAccepts?: boolean; fetchStatus?: number[]; secure?: boolean; dataset?: Record<string, string> } = {}) {
  const sent: Array<Promise<Sent>> = [];
  const listeners: Record<string, Array<() => void>> = {};
  const on = (name: string, fn: () => void) => (listeners[name] ??= []).push(fn);
  const statuses = [...(options.fetchStatus ?? [])];
  const decode = async (via: Sent['via'], url: string, blob: Blob, keepalive?: boolean): Promise<Sent> => {
    const body = JSON.parse(await blob.text());
    return {
      via,
      url,
      type: blob.type,
      events: body.events,
      ...(body.user_token === undefined ? {} : { userToken: body.user_token }),
      keepalive,
    };
  };
  const document = { visibilityState: 'visible', currentScript: { dataset: options.dataset ?? {} }, addEventListener: on };
  const window = {
    document,
    addEventListener: on,
    crypto: options.secure === false ? { getRandomValues: (a: Uint8Array) => webcrypto.getRandomValues(a) } : webcrypto,
    navigator: {
      sendBeacon(url: string, blob: Blob) {
        if (options.beaconAccepts === false) return false;
        sent.push(decode('beacon', url, blob));
        return true;
      },
    },
    fetch(url: string, init: { method: string; body: Blob; keepalive: boolean }) {
      sent.push(decode('fetch', url, init.body, init.keepalive));
      return Promise.resolve({ status: statuses.shift() ?? 202 });
    },
    tally: undefined as unknown as Tally,
  };
  runInNewContext(SOURCE, { window, Blob, setTimeout, clearTimeout });
  const fire = (name: string) => (listeners[name] ?? []).forEach((fn) => fn());
  return { tally: window.tally, document, fire, sent: () => Promise.all(sent) };
}

test('hiding the page sends one text/plain beacon with the key in the query and an id per event', async () => {
  const page = loadBeacon();
  page.tally.init({ endpoint: 'https://ingest.example/v1/events', key: 'pk web/1' });
  page.tally.track({ type: 'movie.viewed', jav_id: 7, user_id: null });
  page.tally.track({ type: 'tag.viewed', tag_id: 3 });
  page.document.visibilityState = 'hidden';
  page.fire('visibilitychange');

  const [beacon, ...rest] = await page.sent();
  expect(rest).toEqual([]);
  expect(beacon?.via).toBe('beacon');
  expect(beacon?.url).toBe('https://ingest.example/v1/events?key=pk%20web%2F1');
  expect(beacon?.type).toBe('text/plain');
  expect(beacon?.events.map((e) => [e.type, e.jav_id ?? e.tag_id])).toEqual([
    ['movie.viewed', 7],
    ['tag.viewed', 3],
  ]);
  const ids = beacon?.events.map((e) => e.event_id) ?? [];
  expect(ids.every((id) => UUID_V4.test(String(id)))).toBe(true);
  expect(new Set(ids).size).toBe(2);
  expect(typeof beacon?.events[0]?.occurred_at).toBe('string');
  expect(typeof beacon?.events[0]?.sent_at).toBe('string');
});

test('visibilitychange to visible sends nothing; pagehide sends, configured from the script tag', async () => {
  const page = loadBeacon({ dataset: { endpoint: 'https://i.example/v1/events', key: 'pk_1' } });
  page.tally.track({ type: 'actor.viewed', actor_id: 1 });
  page.fire('visibilitychange');
  expect(await page.sent()).toEqual([]);

  page.fire('pagehide');
  const sent = await page.sent();
  expect(sent.map((s) => [s.via, s.url, s.events.length])).toEqual([['beacon', 'https://i.example/v1/events?key=pk_1', 1]]);
});

test('with data-user-token every batch carries the token, and events without a user_id get its user', async () => {
  const token = 'v1.42.2000000000.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
  const page = loadBeacon({ dataset: { endpoint: 'https://i.example/v1/events', key: 'pk_1', userToken: token } });
  page.tally.track({ type: 'movie.viewed', jav_id: 1 });
  page.tally.track({ type: 'movie.viewed', jav_id: 2, user_id: null }); // the page may still say "as a guest"
  page.fire('pagehide');
  const [sent] = await page.sent();
  expect(sent?.userToken).toBe(token);
  expect(sent?.events.map((e) => e.user_id)).toEqual([42, null]);
});

test('without a user token the body has none and events keep what the page gave', async () => {
  const page = loadBeacon({ dataset: { endpoint: 'https://i.example/v1/events', key: 'pk_1' } });
  page.tally.track({ type: 'movie.viewed', jav_id: 1 });
  page.fire('pagehide');
  const [sent] = await page.sent();
  expect(sent).not.toHaveProperty('userToken');
  expect(sent?.events[0]).not.toHaveProperty('user_id');
});

test('a refused beacon falls back to a keepalive fetch of the same events', async () => {
  const page = loadBeacon({ beaconAccepts: false });
  page.tally.init({ endpoint: 'https://i.example/v1/events', key: 'k' });
  page.tally.track({ type: 'movie.liked', jav_id: 2 });
  page.fire('pagehide');

  const [sent] = await page.sent();
  expect(sent).toMatchObject({ via: 'fetch', type: 'text/plain', keepalive: true, url: 'https://i.example/v1/events?key=k' });
  expect(sent?.events[0]).toMatchObject({ type: 'movie.liked', jav_id: 2 });
});

test('while the page is visible a full batch goes out by fetch, and a 503 is resent with the same ids', async () => {
  const page = loadBeacon({ fetchStatus: [503] });
  page.tally.init({ endpoint: 'https://i.example/v1/events', key: 'k', batch: 2 });
  page.tally.track({ type: 'movie.viewed', jav_id: 1 });
  page.tally.track({ type: 'movie.viewed', jav_id: 2 });
  const [first] = await page.sent();
  expect(first).toMatchObject({ via: 'fetch', keepalive: true, type: 'text/plain' });

  await new Promise((resolve) => setImmediate(resolve)); // let the 503 put the events back
  page.tally.flush();
  const [, second] = await page.sent();
  expect(second?.events.map((e) => e.event_id)).toEqual(first?.events.map((e) => e.event_id));
});

test('without crypto.randomUUID (plain-http pages) ids are still UUID v4', async () => {
  const page = loadBeacon({ secure: false });
  page.tally.init({ endpoint: 'http://i.example/v1/events', key: 'k' });
  for (let i = 0; i < 20; i++) page.tally.track({ type: 'movie.viewed', jav_id: i + 1 });
  page.fire('pagehide');

  const ids = (await page.sent()).flatMap((s) => s.events.map((e) => String(e.event_id)));
  expect(ids).toHaveLength(20);
  expect(ids.filter((id) => !UUID_V4.test(id))).toEqual([]);
  expect(new Set(ids).size).toBe(20);
});
