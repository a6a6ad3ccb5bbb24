import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { Knex } from 'knex';
import { RAW_EVENT_TABLES } from '@tally/db';
import { tableDigest } from '../../packages/db/src/testing/table-digest';
import { eventDefinitions, type EventType, type TallyEvent } from '@tally/events';
import { TABLE_COLUMNS } from '@tally/event-logger/handler';
import { eventually } from '../helpers/env';
import { testPort } from '../helpers/services';
import { isolatedSuite, makeEvents, produceEvents, startEventLogger } from '../event-logger/harness';

const ROOT = resolve(__dirname, '../..');
const run = promisify(execFile);
const TYPES = eventDefinitions().map((d) => d.type) as EventType[];

/** The rows of the given events in every raw table, as the columns the logger writes, in event_id order. */
async function rowsOf(db: Knex, events: readonly TallyEvent[]): Promise<string> {
  const ids = events.map((e) => e.payload.event_id);
  const out: Record<string, unknown[]> = {};
  for (const table of RAW_EVENT_TABLES) {
    const cols = TABLE_COLUMNS[table as keyof typeof TABLE_COLUMNS];
    out[table] = await db(table)
      .whereIn('event_id', ids)
      .select(...cols)
      .orderBy('event_id');
  }
  return JSON.stringify(out);
}

async function rowCount(db: Knex): Promise<number> {
  let n = 0;
  for (const t of RAW_EVENT_TABLES) n += Number((await db(t).count<{ n: number }[]>({ n: '*' }))[0]!.n);
  return n;
}

describe('tally replay', () => {
  const suite = isolatedSuite();
  const tally = async (...args: string[]) => {
    const r = await run(process.execPath, [resolve(ROOT, 'packages/cli/dist/bin.js'), ...args], {
      env: { ...process.env, TOPIC_PREFIX: suite.iso.prefix, MYSQL_URL: suite.iso.tmp.url },
    });
    return r.stdout + r.stderr;
  };

  it('into the live stores changes nothing; a time range into emptied tables reproduces exactly what the live logger wrote', async () => {
    const { names, tmp } = suite.iso;
    const before = makeEvents(10, TYPES);
    const inside = makeEvents(15, TYPES);
    const after = makeEvents(5, TYPES);
    await produceEvents(names, before);
    await new Promise((r) => setTimeout(r, 1_100)); // Kafka timestamps are milliseconds: keep the ranges apart
    const from = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 50));
    await produceEvents(names, inside);
    await new Promise((r) => setTimeout(r, 1_100));
    const to = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 50));
    await produceEvents(names, after);
    const total = before.length + inside.length + after.length;

    suite.procs.push(await startEventLogger(suite.iso, testPort(23_000)));
    await eventually(
      async () => ((await rowCount(tmp.db)) === total ? true : undefined),
      120_000,
      `${total} rows from the live event-logger`,
    );
    const live = await rowsOf(tmp.db, inside);
    const digests = async () => Promise.all(RAW_EVENT_TABLES.map((t) => tableDigest(tmp.db, t)));
    const liveDigests = await digests();

    // Replay everything into the live tables: every row is already there.
    const topics = TYPES.flatMap((t) => ['--event', t]);
    const out = await tally('replay', ...topics, '--from', 'beginning', '--sink', 'event-logger', '--no-progress');
    expect(out).toMatch(new RegExp(`replay: ${total} messages .* ${total} applied to event-logger`));
    expect(await digests()).toEqual(liveDigests);

    // Empty the raw tables, replay only the range: exactly the rows of the range, as the live logger wrote them.
    for (const t of RAW_EVENT_TABLES) await tmp.db(t).truncate();
    expect(await tally('replay', ...topics, '--from', from, '--to', to, '--sink', 'event-logger', '--no-progress')).toMatch(
      new RegExp(`replay: ${inside.length} messages`),
    );
    expect(await rowCount(tmp.db)).toBe(inside.length);
    expect(await rowsOf(tmp.db, inside)).toEqual(live);

    // The same range to a file: one decoded event per line.
    const file = join(tmpdir(), `replay-${suite.iso.prefix}ndjson`);
    await tally('replay', '--event', 'movie.viewed', '--from', from, '--to', to, '--sink', `ndjson:${file}`, '--no-progress');
    const lines = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; event: { event_id: string } });
    expect(lines.map((l) => l.event.event_id).sort()).toEqual(
      inside
        .filter((e) => e.type === 'movie.viewed')
        .map((e) => e.payload.event_id)
        .sort(),
    );
  }, 300_000);

  it('names what is wrong with its arguments', async () => {
    const err = (await tally('replay', '--event', 'movie.vieweed', '--from', 'beginning', '--sink', 'stdout').catch(
      (e: { stderr: string; code: number }) => e,
    )) as { stderr: string; code: number };
    expect(err.code).toBe(1);
    expect(err.stderr).toMatch(/--event: "movie.vieweed" is not an event type/);
    const err2 = (await tally('replay', '--event', 'search.performed', '--from', 'beginning', '--sink', 'history').catch(
      (e: { stderr: string }) => e,
    )) as { stderr: string };
    expect(err2.stderr).toMatch(/--sink history does not consume .*search\.performed/);
    const err3 = (await tally('replay', '--event', 'movie.viewed', '--from', 'yesterday-ish', '--sink', 'stdout').catch(
      (e: { stderr: string; code: number }) => e,
    )) as { stderr: string; code: number };
    expect(err3.code).toBe(2);
    expect(err3.stderr).toMatch(/--from: "yesterday-ish" is not/);
  });
});
