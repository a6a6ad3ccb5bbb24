import { EVENT_TYPES } from '@tally/events';
import { createConnection } from 'mysql2/promise';
import { eventually } from '../helpers/env';
import { testPort } from '../helpers/services';
import {
  endOffsets,
  expectExactlyOnce,
  groupOffsets,
  isolatedSuite,
  makeEvents,
  produceEvents,
  startEventLogger,
  totalRows,
  uniqueName,
  waitAllCommitted,
  waitForRows,
} from './harness';

// SIGKILL in the middle of a write: the chunk's transaction never commits and neither does its Kafka
// offset; the restarted service writes it again, and event_id uniqueness absorbs whatever of the
// in-flight work had been committed. Result: every event exactly once.

const PORT = testPort(21700);
const suite = isolatedSuite();
const procs = suite.procs;

it('SIGKILL mid-batch, restart: exact rows, no duplicates, no gaps', async () => {
  const group = uniqueName('el_crash');
  const others = EVENT_TYPES.filter((t) => t !== 'movie.viewed');
  const firstWave = makeEvents(100, others);
  const viewTopic = suite.iso.names.topicFor('movie.viewed');

  const first = await startEventLogger(suite.iso, PORT, { GROUP_ID: group });
  procs.push(first);
  await produceEvents(suite.iso.names, firstWave);
  await waitForRows(suite.iso.tmp.db, firstWave.length);

  // A second connection holds a write lock on view_events, so the service's INSERT for the next
  // views blocks inside its transaction: that is where it gets killed.
  // A plain connection, outside any pool: the lock lives exactly as long as this session.
  const locker = await createConnection(suite.iso.tmp.url);
  const secondWave = [...makeEvents(400, ['movie.viewed']), ...makeEvents(100, others)];
  try {
    await locker.query('LOCK TABLES view_events WRITE');
    await produceEvents(suite.iso.names, secondWave);
    await eventually(
      async () => {
        const [rows] = (await suite.iso.tmp.db.raw(
          "SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE DB = ? AND STATE LIKE '%lock%' AND INFO LIKE 'INSERT IGNORE INTO `view_events`%'",
          [suite.iso.tmp.name],
        )) as [{ n: number }[]];
        return Number(rows[0]!.n) > 0 ? true : undefined;
      },
      30_000,
      'the service blocked inside its view_events INSERT',
    );
    first.signal('SIGKILL');
    expect((await first.waitExit()).signal).toBe('SIGKILL');
  } finally {
    await locker.query('UNLOCK TABLES').catch(() => undefined);
    await locker.end();
  }

  // Nothing of the killed chunk is durable: no view row, and its offsets were not committed.
  expect(await suite.iso.tmp.db('view_events').count({ n: '*' })).toEqual([{ n: 0 }]);
  const committed = await groupOffsets(group, [viewTopic]);
  const end = await endOffsets([viewTopic]);
  const behind = [...end].filter(([tp, high]) => high > 0 && (committed.get(tp) ?? -1) < high);
  expect(behind.length).toBeGreaterThan(0);
  const partial = await totalRows(suite.iso.tmp.db);
  expect(partial).toBeLessThan(firstWave.length + secondWave.length);

  // The restarted member gets the partitions once the killed one's session (30 s) expires.
  const second = await startEventLogger(suite.iso, PORT, { GROUP_ID: group }, false);
  procs.push(second);
  const all = [...firstWave, ...secondWave];
  await waitForRows(suite.iso.tmp.db, all.length, 90_000);
  await waitAllCommitted(group, suite.iso.names.eventTopics);
  await expectExactlyOnce(suite.iso.tmp.db, all);

  second.signal('SIGTERM');
  expect((await second.waitExit()).code).toBe(0);
}, 170_000);
