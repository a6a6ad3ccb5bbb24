import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { createTempDatabase, type TempDatabase } from '@tally/db';
import { eventDefinitions, type TopicNames } from '@tally/events';
import { env, eventually, uniqueName } from '../helpers/env';
import { deleteTopics } from '../helpers/kafka';
import { EventProducer, isolatedTopics, makeEvent } from '../helpers/pipeline';
import { ServiceProcess } from '../helpers/process';
import { testPort } from '../helpers/services';
import { createAppSchema, writeAppMapping } from '../fixtures/app-schema/adopt';

// A schema error met after the start (the app team dropped a column the mapping names) is not
// transient: the consumer stops with MySQL's message and the fix, exit 2, instead of retrying the
// chunk for ever; its offsets do not move past what was applied.
const ROOT = resolve(__dirname, '../..');
let tally: TempDatabase;
let app: TempDatabase;
let names: TopicNames;
let producer: EventProducer;
const procs: ServiceProcess[] = [];

beforeAll(async () => {
  tally = await createTempDatabase(env.MYSQL_URL, 'tally_schema');
  app = await createTempDatabase(env.MYSQL_URL, 'tally_schema_app');
  await createAppSchema(app.db);
  names = isolatedTopics();
  const common = { MYSQL_URL: tally.url, CATALOG_MAPPING: writeAppMapping(app.name) };
  for (const args of [['migrate'], ['adopt', 'apply']]) {
    execFileSync(process.execPath, [resolve(ROOT, 'packages/cli/dist/bin.js'), ...args], {
      env: { ...process.env, ...common },
      stdio: 'ignore',
    });
  }
  producer = new EventProducer(names);
  await producer.connect();
  procs.push(
    new ServiceProcess('services/history/dist/main.js', {
      ...common,
      LOG_LEVEL: 'warn',
      TOPIC_PREFIX: names.prefix,
      GROUP_ID: uniqueName('s_history'),
      MANAGEMENT_PORT: String(testPort(19900)),
      KAFKA_SESSION_TIMEOUT: '6s',
    }),
  );
  await eventually(
    async () => ((await fetch(`http://127.0.0.1:${testPort(19900)}/readyz`).catch(() => undefined))?.ok ? true : undefined),
    60_000,
    'history ready',
  );
}, 180_000);

afterAll(async () => {
  await Promise.all(procs.map((p) => p.kill()));
  await producer?.disconnect();
  await tally?.drop();
  await app?.drop();
  await deleteTopics([...eventDefinitions().map((d) => names.topicFor(d.type)), names.deadLetter]).catch(() => undefined);
});

it('history stops with the schema error and its fix (exit 2) when a mapped column disappears, and keeps what it applied', async () => {
  const view = () => ({
    type: 'movie.viewed' as const,
    value: makeEvent('movie.viewed', { jav_id: 3, user_id: 7, event_id: randomUUID() }),
  });
  await producer.send([view()]);
  await eventually(
    async () =>
      Number(((await tally.db('consumer_progress').max({ o: 'offset' }).first()) as { o: number | null }).o ?? -1) >= 0 ? true : undefined,
    30_000,
    'first view applied',
  );
  const applied = await tally.db('consumer_progress').select('topic', 'partition', 'offset');
  // The app team drops the column the mapping calls history.columns.lastViewedAt.
  await app.db.raw('ALTER TABLE user_jav_history DROP INDEX user_jav_history_user_id_viewed_at_index, DROP COLUMN viewed_at');
  await producer.send([view()]);
  const exit = await procs[0]!.waitExit(60_000);
  expect({ code: exit.code, output: procs[0]!.output.slice(-1500) }).toMatchObject({ code: 2 });
  expect(procs[0]!.output).toMatch(
    /SCHEMA_MISMATCH: MySQL refused a statement because the schema is not what the catalog mapping says: .*Unknown column 'viewed_at'.*run `tally adopt check`/,
  );
  // Nothing past the applied view was recorded as done.
  expect(await tally.db('consumer_progress').select('topic', 'partition', 'offset')).toEqual(applied);
}, 120_000);
