import { EVENT_TYPES } from '@tally/events';
import { eventually } from '../helpers/env';
import { startIngest, testPort } from '../helpers/services';
import {
  counterSum,
  expectExactlyOnce,
  groupMembers,
  isolatedSuite,
  makeEvents,
  metricsText,
  postEvents,
  startEventLogger,
  uniqueName,
  waitAllCommitted,
  waitForRows,
} from './harness';

// Two event-logger processes in one consumer group, fed through the real ingest API: the group
// splits the partitions between them and the logs still hold every accepted event exactly once.

const PORT_A = testPort(22300);
const PORT_B = PORT_A + 1;
const INGEST_PORT = testPort(23500);
const suite = isolatedSuite();
const procs = suite.procs;

it('two instances, same group: both get partitions, every event logged exactly once', async () => {
  const group = uniqueName('el_pair');
  const [a, b] = await Promise.all([
    startEventLogger(suite.iso, PORT_A, { GROUP_ID: group }),
    startEventLogger(suite.iso, PORT_B, { GROUP_ID: group }),
  ]);
  procs.push(a, b);
  const members = await eventually(
    async () => {
      const g = await groupMembers(group);
      return g.state === 'Stable' && g.members.length === 2 && g.members.every((m) => m.partitions > 0) ? g.members : undefined;
    },
    45_000,
    'a stable group of two members, each with partitions',
  );
  expect(members.reduce((s, m) => s + m.partitions, 0)).toBe(EVENT_TYPES.length * 6);

  const ingest = await startIngest({ PORT: String(INGEST_PORT), TOPIC_PREFIX: suite.iso.prefix });
  procs.push(ingest.proc);
  const events = makeEvents(300, EVENT_TYPES); // 4,200 events in requests of 500
  await postEvents(ingest.url, events);

  await waitForRows(suite.iso.tmp.db, events.length, 60_000);
  await waitAllCommitted(group, suite.iso.names.eventTopics);
  await expectExactlyOnce(suite.iso.tmp.db, events);
  // Both wrote some of them.
  const written = await Promise.all(
    [PORT_A, PORT_B].map(async (p) => counterSum(await metricsText(p), 'tally_raw_log_rows_inserted_total')),
  );
  expect(written.every((n) => n > 0)).toBe(true);
  expect(written[0]! + written[1]!).toBe(events.length);

  for (const p of [a, b]) p.signal('SIGTERM');
  expect((await Promise.all([a.waitExit(), b.waitExit()])).map((e) => e.code)).toEqual([0, 0]);
  ingest.proc.signal('SIGTERM');
  await ingest.proc.waitExit();
}, 150_000);
