import { randomBytes } from 'node:crypto';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { EVENT_TYPES, eventDefinition, keyFor, type TallyEvent } from '@tally/events';
import { createConnection } from 'mysql2/promise';
import { DLQ_HEADERS, RegistryCodec } from '@tally/kafka';
import { env, eventually } from '../helpers/env';
import { produceRaw, readTopic } from '../helpers/kafka';
import { testPort } from '../helpers/services';
import type { ServiceProcess } from '../helpers/process';
import {
  counterSum,
  endOffsets,
  expectExactlyOnce,
  groupOffsets,
  isolatedEnvironment,
  makeEvents,
  metricsText,
  produceEvents,
  readyz,
  startEventLogger,
  totalRows,
  uniqueName,
  waitAllCommitted,
  waitForRows,
  type Isolated,
} from './harness';

// Poison messages go to the dead-letter topic; MySQL trouble (a table locked, the server
// unreachable) never does: the offsets wait, and everything lands exactly once after recovery.

const PORT = testPort(22900);
const GATE_PORT = testPort(24100);
let iso: Isolated;
let proc: ServiceProcess;
const group = uniqueName('el_faults');
const logged: TallyEvent[] = [];

/** A TCP pass-through to MySQL that the test can cut (connections reset, new ones refused) and restore. */
class MysqlGate {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  constructor(
    readonly port: number,
    private readonly target: { host: string; port: number },
  ) {}

  async open(): Promise<void> {
    const server = createServer((client) => {
      const upstream = connect(this.target.port, this.target.host);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(this.port, '127.0.0.1', resolve));
    this.server = server;
  }

  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    if (server) await new Promise((r) => server.close(r));
  }
}

const mysqlUrl = new URL(env.MYSQL_URL);
const gate = new MysqlGate(GATE_PORT, { host: mysqlUrl.hostname, port: Number(mysqlUrl.port || 3306) });

beforeAll(async () => {
  iso = await isolatedEnvironment();
  await gate.open();
  const viaGate = new URL(iso.tmp.url);
  viaGate.host = `127.0.0.1:${GATE_PORT}`;
  proc = await startEventLogger(iso, PORT, { GROUP_ID: group, MYSQL_URL: viaGate.toString() });
}, 90_000);
afterAll(async () => {
  await proc?.kill();
  await gate.cut();
  await iso?.cleanup();
}, 60_000);

const dlqCount = async () => [...(await endOffsets([iso.names.deadLetter])).values()].reduce((s, n) => s + n, 0);
const committedSum = async (topics: readonly string[]) =>
  [...(await groupOffsets(group, topics)).values()].reduce((s, n) => s + Math.max(0, n), 0);
const endSum = async (topics: readonly string[]) => [...(await endOffsets(topics)).values()].reduce((s, n) => s + n, 0);

it('poison (random bytes, a domain-invalid record) is dead-lettered with its reason; the rest is logged', async () => {
  const viewTopic = iso.names.topicFor('movie.viewed');
  const ratedTopic = iso.names.topicFor('movie.rated');
  const before = makeEvents(20, EVENT_TYPES);
  const after = makeEvents(20, EVENT_TYPES);
  await produceEvents(iso.names, before);
  const junk = randomBytes(48);
  junk[0] = 0x7f; // not the Confluent magic byte
  await produceRaw(viewTopic, [{ key: 'junk', value: junk, partition: 2 }]);
  // Valid Avro, but a 9-star rating breaks the domain rules.
  const bad = { type: 'movie.rated', payload: { ...makeEvents(1, ['movie.rated'])[0]!.payload, rating: 9 } } as TallyEvent;
  const codec = new RegistryCodec(env.SCHEMA_REGISTRY_URL);
  const id = await codec.register(iso.names.subjectFor('movie.rated'), eventDefinition('movie.rated').avroSchema);
  await produceRaw(ratedTopic, [
    { key: keyFor(bad), value: codec.encodeValidated(id, eventDefinition('movie.rated').avroType, bad.payload), partition: 1 },
  ]);
  await produceEvents(iso.names, after);
  logged.push(...before, ...after);

  await waitForRows(iso.tmp.db, logged.length);
  await waitAllCommitted(group, iso.names.eventTopics);
  await expectExactlyOnce(iso.tmp.db, logged);

  const dead = await readTopic(iso.names.deadLetter, 2);
  const byKey = Object.fromEntries(dead.map((d) => [d.key, d]));
  expect(byKey.junk!.headers).toMatchObject({
    [DLQ_HEADERS.reason]: 'undecodable',
    [DLQ_HEADERS.service]: 'event-logger',
    [DLQ_HEADERS.topic]: viewTopic,
    [DLQ_HEADERS.partition]: '2',
  });
  expect(byKey.junk!.value!.equals(junk)).toBe(true); // the original bytes, untouched
  expect(byKey[keyFor(bad)]!.headers).toMatchObject({
    [DLQ_HEADERS.reason]: 'invalid_payload',
    [DLQ_HEADERS.step]: 'validate',
    [DLQ_HEADERS.topic]: ratedTopic,
  });
  expect(byKey[keyFor(bad)]!.headers[DLQ_HEADERS.detail]).toContain('rating must be an integer from 1 to 5');
  expect(await dlqCount()).toBe(2);
}, 90_000);

it('view_events locked by another session: its offsets wait, nothing is dead-lettered, exact after unlock', async () => {
  const viewTopics = [iso.names.topicFor('movie.viewed')];
  // A plain connection, outside any pool: the lock lives exactly as long as this session.
  const locker = await createConnection(iso.tmp.url);
  const dlqBefore = await dlqCount();
  const wave = makeEvents(200, ['movie.viewed', 'movie.liked', 'search.performed']);
  try {
    await locker.query('LOCK TABLES view_events WRITE');
    const committedBefore = await committedSum(viewTopics);
    await produceEvents(iso.names, wave);
    await new Promise((r) => setTimeout(r, 8_000));
    expect(await committedSum(viewTopics)).toBe(committedBefore);
    const [[locked]] = (await locker.query('SELECT COUNT(*) AS n FROM view_events')) as unknown as [{ n: number }[]];
    expect(Number(locked!.n)).toBe(logged.filter((e) => e.type === 'movie.viewed').length);
    expect((await readyz(PORT)).status).toBe(200); // the store answers; only one table waits
  } finally {
    await locker.query('UNLOCK TABLES').catch(() => undefined);
    await locker.end();
  }
  logged.push(...wave);
  await waitForRows(iso.tmp.db, logged.length);
  await waitAllCommitted(group, iso.names.eventTopics);
  await expectExactlyOnce(iso.tmp.db, logged);
  expect(await dlqCount()).toBe(dlqBefore);
}, 90_000);

it('MySQL unreachable: /readyz says so, offsets do not move, nothing dead-lettered; exact once it is back', async () => {
  const topics = iso.names.eventTopics;
  const dlqBefore = await dlqCount();
  await gate.cut();
  const down = await eventually(
    async () => {
      const r = await readyz(PORT);
      return r.status === 503 && r.body.checks?.mysql !== 'ok' ? r : undefined;
    },
    20_000,
    '/readyz to report mysql down',
  );
  expect(down.body.ready).toBe(false);

  const committedBefore = await committedSum(topics);
  expect(committedBefore).toBe(await endSum(topics)); // all earlier work committed
  const rowsBefore = await totalRows(iso.tmp.db);
  const wave = makeEvents(50, EVENT_TYPES);
  await produceEvents(iso.names, wave);
  await new Promise((r) => setTimeout(r, 8_000));
  expect(await committedSum(topics)).toBe(committedBefore);
  expect(await totalRows(iso.tmp.db)).toBe(rowsBefore);
  expect(await dlqCount()).toBe(dlqBefore);
  const text = await metricsText(PORT);
  expect(counterSum(text, 'tally_consumer_retries_total')).toBeGreaterThan(0);

  await gate.open();
  logged.push(...wave);
  await waitForRows(iso.tmp.db, logged.length);
  await waitAllCommitted(group, topics);
  await expectExactlyOnce(iso.tmp.db, logged);
  expect(await dlqCount()).toBe(dlqBefore);
  await eventually(async () => ((await readyz(PORT)).status === 200 ? true : undefined), 20_000, '/readyz ready again');

  proc.signal('SIGTERM');
  expect((await proc.waitExit()).code).toBe(0);
}, 120_000);
