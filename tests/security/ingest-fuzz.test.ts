import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { eventDefinitions, keyFor, validateEvent, type EventType, type TallyEvent } from '@tally/events';
import { RegistryCodec } from '@tally/kafka';
import { loadIngestConfig } from '../../services/ingest-api/src/config';
import {
  answerProblems,
  FUZZ_STATUSES,
  fuzzRequest,
  type FuzzLimits,
  type FuzzRequest,
} from '../../services/ingest-api/test/fuzz-requests';
import { env } from '../helpers/env';
import { startIngest, testPort } from '../helpers/services';
import type { ServiceProcess } from '../helpers/process';
import { isolatedEnvironment, type Isolated } from '../event-logger/harness';
import { readToEnd } from './support';

// The request fuzz of services/ingest-api/src/fuzz.test.ts at scale, against the real process, Kafka
// and registry, with the production limits: every answer as documented (never 5xx), the process alive
// throughout, and Kafka holding exactly the events answered as accepted, each valid, each as sent.
const TARGET_PAYLOADS = 100_000;
// 6 requests in flight keep the ingest process busy on 2 cores while this process generates the next ones.
const CONCURRENCY = 6;
const CHUNK = 40;
const SEED = Date.now() % 2 ** 31;
const defaults = loadIngestConfig({});
// Keys of its own: rate-limit buckets live in the shared Redis, and this file's volume must not
// spend other test files' budgets for bk-test.
const limits: FuzzLimits = {
  keys: { browser: `bk-fuzz-${process.pid}`, server: `sk-fuzz-${process.pid}` },
  maxEvents: defaults.MAX_EVENTS_PER_REQUEST,
  bodyLimit: defaults.BODY_LIMIT_BYTES,
};

let iso: Isolated | undefined;
let ingest: { proc: ServiceProcess; url: string } | undefined;
beforeAll(async () => {
  iso = await isolatedEnvironment();
  // The limit is the real one's shape, raised so the fuzz's own pace is never refused; the produce
  // timeout is raised so a loaded 2-core machine cannot turn a slow acknowledgement into a 503.
  ingest = await startIngest({
    PORT: String(testPort(25300)),
    TOPIC_PREFIX: iso.prefix,
    BROWSER_KEYS: limits.keys.browser,
    SERVER_KEYS: limits.keys.server,
    RATE_LIMIT_MAX: '10000000',
    PRODUCE_TIMEOUT: '60s',
  });
}, 120_000);
afterAll(async () => {
  await ingest?.proc.kill();
  await iso?.cleanup();
}, 60_000);

interface Tally {
  requests: number;
  payloads: number;
  accepted: number;
  refused: number;
  statuses: Map<number, number>;
  acceptedIds: Map<string, number>;
  /** Valid events sent with their own id: Kafka must hold them field for field. */
  sentValid: Map<string, Record<string, unknown>>;
  problems: string[];
}

/** Requests generated chunk by chunk (seeded, so a failure can be replayed) until the target is reached. */
function requestSource(): () => FuzzRequest | undefined {
  let buffer: FuzzRequest[] = [];
  let chunk = 0;
  let generated = 0;
  return () => {
    if (buffer.length === 0 && generated < TARGET_PAYLOADS) {
      buffer = fc.sample(fuzzRequest(limits), { numRuns: CHUNK, seed: SEED + chunk++ });
      generated += buffer.reduce((n, r) => n + r.payloads, 0);
    }
    return buffer.shift();
  };
}

async function send(url: string, req: FuzzRequest, t: Tally): Promise<void> {
  const res = await fetch(`${url}${req.url}`, { method: 'POST', headers: req.headers, body: req.body });
  const text = await res.text();
  t.requests++;
  t.payloads += req.payloads;
  t.statuses.set(res.status, (t.statuses.get(res.status) ?? 0) + 1);
  let answer: Parameters<typeof answerProblems>[2] = {};
  try {
    answer = JSON.parse(text);
  } catch {
    t.problems.push(`${req.kind}: ${res.status} with a body that is not JSON: ${text.slice(0, 200)}`);
  }
  const problems = FUZZ_STATUSES.has(res.status) ? answerProblems(req, res.status, answer, limits) : [`undocumented status ${res.status}`];
  if (problems.length)
    t.problems.push(
      `${req.kind} (seed ${SEED}) ${req.body.subarray(0, 200).toString()} → ${res.status} ${text.slice(0, 300)}: ${problems.join('; ')}`,
    );
  t.accepted += answer.accepted ?? 0;
  t.refused += req.payloads - (answer.accepted ?? 0);
  for (const e of answer.events ?? []) {
    t.acceptedIds.set(e.event_id, (t.acceptedIds.get(e.event_id) ?? 0) + 1);
    const sent = req.events?.[e.index];
    if (sent?.verdict === 'valid' && (sent.event as Record<string, unknown>).event_id === e.event_id) {
      // A browser's user_id without a user token is kept as a guest's (the answer's notice says so).
      const kept = e.identity === 'guest' ? { ...(sent.event as Record<string, unknown>), user_id: null } : sent.event;
      t.sentValid.set(e.event_id, kept as Record<string, unknown>);
    }
  }
}

/** Fields a valid event must keep from client to Kafka (times are converted and skew-corrected, by design). */
function changedFields(sent: Record<string, unknown>, stored: Record<string, unknown>): string[] {
  // Compared as JSON, which is what the server received (fast-check's dictionaries have no prototype).
  const asSent = (v: unknown) => JSON.parse(JSON.stringify(v)) as unknown;
  return Object.keys(sent).filter((k) => !['type', 'occurred_at', 'sent_at'].includes(k) && !isDeepStrictEqual(asSent(sent[k]), stored[k]));
}

it(`${TARGET_PAYLOADS.toLocaleString('en')}+ generated payloads: documented answers only, process alive, Kafka holds exactly the accepted events`, async () => {
  const { proc, url } = ingest!;
  const pid = proc.child.pid;
  const t0 = Date.now();
  const t: Tally = {
    requests: 0,
    payloads: 0,
    accepted: 0,
    refused: 0,
    statuses: new Map(),
    acceptedIds: new Map(),
    sentValid: new Map(),
    problems: [],
  };
  const next = requestSource();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      for (let req = next(); req; req = next()) await send(url, req, t);
    }),
  );
  const httpMs = Date.now() - t0;

  expect(t.problems.slice(0, 10)).toEqual([]);
  expect(t.payloads).toBeGreaterThanOrEqual(TARGET_PAYLOADS);
  // Both outcomes in bulk, or the run proves little.
  expect(t.accepted).toBeGreaterThan(t.payloads / 4);
  expect(t.refused).toBeGreaterThan(t.payloads / 10);
  // The same process, never restarted, still answering, and it logged no unexpected error.
  expect({ exitCode: proc.child.exitCode, signal: proc.child.signalCode, pid: proc.child.pid }).toEqual({
    exitCode: null,
    signal: null,
    pid,
  });
  expect((await fetch(`${url}/healthz`)).status).toBe(200);
  expect(proc.output).not.toContain('unexpected error');

  // Kafka: exactly the accepted events, each decodable with its registered schema, valid, on its type's
  // topic with its catalog key, and the valid ones sent with an id field for field as sent.
  const records = await readToEnd(iso!.names.eventTopics);
  expect(records.length).toBe(t.accepted);
  const codec = new RegistryCodec(env.SCHEMA_REGISTRY_URL);
  const inKafka = new Map<string, number>();
  const perType = new Map<EventType, number>();
  const bad: string[] = [];
  for (const r of records) {
    const type = iso!.names.eventTypeFor(r.topic)!;
    const { value } = await codec.decode<Record<string, unknown>>(r.value);
    const verdict = validateEvent(type, value);
    if (!verdict.ok) bad.push(`${r.topic}: ${JSON.stringify(verdict.errors)}`);
    else if (r.key !== keyFor({ type, payload: value } as unknown as TallyEvent))
      bad.push(`${r.topic}: key ${r.key} for ${JSON.stringify(value).slice(0, 200)}`);
    const id = value.event_id as string;
    inKafka.set(id, (inKafka.get(id) ?? 0) + 1);
    perType.set(type, (perType.get(type) ?? 0) + 1);
    const sent = t.sentValid.get(id);
    const changed = sent ? changedFields(sent, value) : [];
    if (changed.length)
      bad.push(`${id}: ${changed.map((k) => `${k} sent ${JSON.stringify(sent![k])}, stored ${JSON.stringify(value[k])}`).join('; ')}`);
  }
  expect(bad.slice(0, 10)).toEqual([]);
  expect(inKafka).toEqual(t.acceptedIds);
  expect(t.sentValid.size).toBeGreaterThan(t.accepted / 4);
  expect(
    eventDefinitions()
      .filter((d) => !perType.get(d.type))
      .map((d) => d.type),
  ).toEqual([]);

  // The figures for the README's guarantees section.
  console.info(
    `ingest fuzz (seed ${SEED}): ${t.payloads} payloads in ${t.requests} requests, ${t.accepted} events accepted, ${t.refused} refused; statuses ${JSON.stringify(Object.fromEntries(t.statuses))}; HTTP ${httpMs} ms, total ${Date.now() - t0} ms`,
  );
}, 300_000);
