import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { createTempDatabase, migrateLatest, seedDemo, type TempDatabase } from '@tally/db';
import { eventDefinitions, type TopicNames } from '@tally/events';
import { env } from '../helpers/env';
import { endOffsets, isolatedTopics } from '../helpers/pipeline';
import { startIngest, testPort } from '../helpers/services';
import type { ServiceProcess } from '../helpers/process';

const ROOT = resolve(__dirname, '../..');
const run = promisify(execFile);

describe('tally simulate', () => {
  let names: TopicNames;
  let tmp: TempDatabase;
  let ingest: { proc: ServiceProcess; url: string };

  beforeAll(async () => {
    names = isolatedTopics();
    tmp = await createTempDatabase(env.MYSQL_URL, 'tally_test_sim');
    await migrateLatest(tmp.db);
    await seedDemo(tmp.db, { movies: 300, actors: 40, tags: 15, users: 60, seed: 3 });
    ingest = await startIngest({ PORT: String(testPort(21_000)), TOPIC_PREFIX: names.prefix });
  });
  afterAll(async () => {
    ingest.proc.signal('SIGTERM');
    await ingest.proc.waitExit();
    await tmp.drop();
  });

  it('sends the asked number of realistic events through the ingest API, all accepted and in Kafka', async () => {
    const topics = eventDefinitions().map((d) => names.topicFor(d.type));
    const before = [...(await endOffsets(topics)).values()].reduce((a, b) => a + b, 0);
    const { stdout } = await run(process.execPath, [resolve(ROOT, 'packages/cli/dist/bin.js'), 'simulate', '--rate', '200', '--duration', '2s',
      '--endpoint', `${ingest.url}/v1/events`, '--key', 'sk-test', '--no-progress'], {
      // eslint-disable-next-line no-restricted-properties -- the CLI child needs the parent's environment
      env: { ...process.env, MYSQL_URL: tmp.url },
    });
    expect(stdout).toMatch(/simulate: 400 accepted, 0 rejected, 0 dropped \(queue full\), 0 undelivered/);
    const after = await endOffsets(topics);
    expect([...after.values()].reduce((a, b) => a + b, 0) - before).toBe(400);
    // Several kinds of events, not one.
    const perType = topics.map((t) => [...after].filter(([k]) => k.startsWith(`${t}:`)).reduce((n, [, v]) => n + v, 0));
    expect(perType.filter((n) => n > 0).length).toBeGreaterThanOrEqual(8);
  });

  it('names a bad --duration and exits 2', async () => {
    const err = await run(process.execPath, [resolve(ROOT, 'packages/cli/dist/bin.js'), 'simulate', '--duration', 'soon']).catch((e: { code: number; stderr: string }) => e);
    expect((err as { code: number }).code).toBe(2);
    expect((err as { stderr: string }).stderr).toMatch(/--duration: "soon" is not a duration/);
  });
});
