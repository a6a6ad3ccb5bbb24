import { randomUUID } from 'node:crypto';
import autocannon from 'autocannon';
import { deleteTopics } from '../helpers/kafka';
import { isolatedTopics } from '../helpers/pipeline';
import { ServiceProcess } from '../helpers/process';
import { startIngest, testPort } from '../helpers/services';
import { PrivateRedis } from '../flusher/support';
import type { TopicNames } from '@tally/events';

// Rate limits as ops meet them: real ingest processes counting in one real Redis. A server key is
// limited per key (the web app's back end sends everyone's events from one address), a browser key
// per key and address, and two instances together enforce one limit, not two. Own topics, own
// redis-server, own keys.
const BASE = 16_900;
const redis = new PrivateRedis(BASE + 10);
const procs: ServiceProcess[] = [];
let names: TopicNames;
const UA = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';

beforeAll(async () => {
  await redis.start();
  names = isolatedTopics();
}, 120_000);
afterAll(async () => {
  await Promise.all(procs.map((p) => p.kill()));
  await redis.stop();
  await deleteTopics([...names.eventTopics, names.deadLetter]).catch(() => undefined);
}, 60_000);

async function ingest(n: number, env: Record<string, string>) {
  const started = await startIngest({ PORT: String(testPort(BASE) + n), TOPIC_PREFIX: names.prefix, REDIS_URL: redis.url, ...env });
  procs.push(started.proc);
  return started.url;
}

const view = () => JSON.stringify({ type: 'movie.viewed', event_id: randomUUID(), jav_id: 1 + Math.floor(Math.random() * 1000) });
async function post(url: string, key: string, ip?: string): Promise<number> {
  const res = await fetch(`${url}/v1/events`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${key}`,
      'content-type': 'application/json',
      'user-agent': UA,
      ...(ip ? { 'x-forwarded-for': ip } : {}),
    },
    body: view(),
  });
  await res.arrayBuffer();
  return res.status;
}

it('two instances enforce one limit together: per key for a server key, per key and address for a browser key', async () => {
  const env = {
    BROWSER_KEYS: 'bk-limits',
    SERVER_KEYS: 'sk-limits',
    RATE_LIMIT_MAX: '20',
    RATE_LIMIT_SERVER_MAX: '30',
    RATE_LIMIT_WINDOW: '10m',
    TRUSTED_PROXIES: '127.0.0.1',
  };
  const [a, b] = await Promise.all([ingest(1, env), ingest(2, env)]);
  const tally = (statuses: number[]) => ({
    accepted: statuses.filter((s) => s === 202).length,
    limited: statuses.filter((s) => s === 429).length,
  });

  // 50 requests of one server key, alternating instances and from 50 addresses: 30 in all.
  const server: number[] = [];
  for (let i = 0; i < 50; i++) server.push(await post(i % 2 ? a : b, 'sk-limits', `198.51.100.${i + 1}`));
  expect(tally(server)).toEqual({ accepted: 30, limited: 20 });

  // 30 requests of one browser key from one address, alternating: 20 in all; another address has its own 20.
  const browser: number[] = [];
  for (let i = 0; i < 30; i++) browser.push(await post(i % 2 ? a : b, 'bk-limits', '203.0.113.5'));
  expect(tally(browser)).toEqual({ accepted: 20, limited: 10 });
  expect(await post(a, 'bk-limits', '203.0.113.6')).toBe(202);

  // The state is Redis's, not the processes': a third instance started now sees the spent budgets.
  const c = await ingest(3, env);
  expect(await post(c, 'sk-limits')).toBe(429);
}, 120_000);

it('a server key sending 2,000 requests a second from one address for 10 s gets no 429 under the default limits', async () => {
  const url = await ingest(4, { BROWSER_KEYS: 'bk-busy', SERVER_KEYS: 'sk-busy', PRODUCE_TIMEOUT: '60s' });
  const result = await autocannon({
    url: `${url}/v1/events`,
    method: 'POST',
    headers: { authorization: 'Bearer sk-busy', 'content-type': 'application/json', 'user-agent': UA },
    // One event per request, each with its own id: the web app's back end forwarding page views.
    requests: [{ setupRequest: (req) => ({ ...req, body: view() }) }],
    connections: 64,
    overallRate: 2_000,
    amount: 20_000,
    timeout: 60,
  });
  const statuses = {
    '2xx': result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    429: result.statusCodeStats?.['429']?.count ?? 0,
  };
  expect(statuses).toEqual({ '2xx': 20_000, non2xx: 0, errors: 0, timeouts: 0, 429: 0 });
}, 180_000);

it('goes on without limits while Redis is down (fail open), and limits again once it is back', async () => {
  const url = await ingest(5, { BROWSER_KEYS: 'bk-open', SERVER_KEYS: 'sk-open', RATE_LIMIT_MAX: '3', RATE_LIMIT_WINDOW: '10m' });
  await redis.stop();
  const during: number[] = [];
  for (let i = 0; i < 6; i++) during.push(await post(url, 'bk-open'));
  expect(during).toEqual([202, 202, 202, 202, 202, 202]);
  await redis.start();
  const statuses: number[] = [];
  // ioredis reconnects within its retry delay; until then requests still pass.
  for (let i = 0; i < 200 && !statuses.includes(429); i++) {
    statuses.push(await post(url, 'bk-open'));
    await new Promise((r) => setTimeout(r, 50));
  }
  expect(statuses).toContain(429);
  expect(statuses.filter((s) => s !== 202 && s !== 429)).toEqual([]);
}, 120_000);
