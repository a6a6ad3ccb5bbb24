import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { expectConserved, faultWorld, summary } from './world';
import { EVENT_TYPES } from '@tally/events';

// `tally replay` of every topic from the beginning into the live stores of each sink — the raw logs,
// the Redis counters (and through the next flush MySQL), the history — while the services run:
// nothing changes. The conservation check before and after is the proof.
const ROOT = resolve(__dirname, '../..');
const run = promisify(execFile);
const { world } = faultWorld();

it('replaying every topic into event-logger, counter and history changes nothing', async () => {
  await world.startAll();
  const events = world.makeEvents(900);
  for (let i = 0; i < events.length; i += 100) expect(await world.post(events.slice(i, i + 100))).toBe(202);
  expectConserved(await world.conserve());

  const cli = async (...args: string[]) => {
    const r = await run(process.execPath, [resolve(ROOT, 'packages/cli/dist/bin.js'), ...args], {
      env: { ...process.env, ...world.baseEnv() },
    });
    return r.stderr;
  };
  const types = (list: readonly string[]) => list.flatMap((t) => ['--event', t]);
  expect(await cli('replay', ...types(EVENT_TYPES), '--from', 'beginning', '--sink', 'event-logger', '--no-progress')).toMatch(
    /replay: 900 messages/,
  );
  // Counter: every offset is at or below its applied progress in Redis, so all are skipped.
  const counted = await cli(
    'replay',
    ...types([
      'movie.viewed',
      'movie.downloaded',
      'movie.liked',
      'movie.unliked',
      'movie.rated',
      'movie.watchlisted',
      'movie.unwatchlisted',
    ]),
    '--from',
    'beginning',
    '--sink',
    'counter',
    '--no-progress',
  );
  expect(counted).toMatch(/applied to counter \((\d+) already there\)/);
  // History: guarded by the live group's progress rows.
  expect(
    await cli(
      'replay',
      ...types(['movie.viewed', 'movie.downloaded']),
      '--from',
      'beginning',
      '--sink',
      'history',
      '--progress-group',
      world.groupOf('history'),
      '--no-progress',
    ),
  ).toMatch(/applied to history/);

  const after = await world.conserve();
  console.log(summary('replay-live-stores', after));
  expect(after.accepted).toBe(900);
  expectConserved(after);
}, 300_000);
