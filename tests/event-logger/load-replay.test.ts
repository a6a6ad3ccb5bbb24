import { EVENT_TYPES, eventDefinition, type TallyEvent } from '@tally/events';
import { testPort } from '../helpers/services';
import {
  counterSum,
  expectExactlyOnce,
  isolatedSuite,
  logsDigest,
  makeEvents,
  metricsText,
  produceEvents,
  startEventLogger,
  totalRows,
  uniqueName,
  waitAllCommitted,
  waitForRows,
} from './harness';

// The event-logger as a real process on its own topics and database: ≥ 10,000 events of all the
// types land once each with every field as produced; a full replay of the topics changes nothing.

const PER_TYPE = 1_000; // × every event type in the catalog (14,000 events with 14 types)
const PORT = testPort(21100);
const suite = isolatedSuite();
const procs = suite.procs;

const ms = (d: unknown) => (d instanceof Date ? d.getTime() : d);

/**
 * A type with no conversion of its own (only string and number fields besides the envelope: no time,
 * boolean, map or type column): its
 * fields as sent, in the raw log topics.json names.
 */
function plainRow(e: TallyEvent, base: Record<string, unknown>): { table: string; row: Record<string, unknown> } {
  const own = Object.entries(e.payload).filter(([k]) => !(k in base) && k !== 'sent_at');
  return { table: eventDefinition(e.type).raw_log_table, row: { ...base, ...Object.fromEntries(own) } };
}

/** What a row must hold, written against the migration's columns independently of the service's mapping. */
function expectedRow(e: TallyEvent): { table: string; row: Record<string, unknown> } {
  const p = e.payload;
  const base = {
    event_id: p.event_id,
    user_id: p.user_id,
    ip: p.ip,
    user_agent: p.user_agent,
    is_bot: p.is_bot ? 1 : 0,
    occurred_at: p.occurred_at,
    received_at: p.received_at,
  };
  switch (e.type) {
    case 'movie.viewed':
      return { table: 'view_events', row: { ...base, jav_id: e.payload.jav_id, repeat_view: e.payload.repeat_view ? 1 : 0 } };
    case 'movie.downloaded':
      return { table: 'download_events', row: { ...base, jav_id: e.payload.jav_id } };
    case 'actor.viewed':
      return { table: 'actor_view_events', row: { ...base, actor_id: e.payload.actor_id } };
    case 'tag.viewed':
      return { table: 'tag_view_events', row: { ...base, tag_id: e.payload.tag_id } };
    case 'recommendation.clicked':
      return { table: 'recommendation_click_events', row: { ...base, jav_id: e.payload.jav_id, reason: e.payload.reason } };
    case 'search.performed': {
      const s = e.payload;
      return {
        table: 'search_events',
        row: { ...base, query: s.query, filters: s.filters, entity_type: s.entity_type, result_count: s.result_count },
      };
    }
    case 'movie.rated':
      return { table: 'interaction_events', row: { ...base, jav_id: e.payload.jav_id, type: 'rate', rating: e.payload.rating } };
    case 'movie.liked':
      return { table: 'interaction_events', row: { ...base, jav_id: e.payload.jav_id, type: 'like', rating: null } };
    case 'movie.unliked':
      return { table: 'interaction_events', row: { ...base, jav_id: e.payload.jav_id, type: 'unlike', rating: null } };
    case 'movie.watchlisted':
      return { table: 'interaction_events', row: { ...base, jav_id: e.payload.jav_id, type: 'watchlist', rating: null } };
    case 'movie.unwatchlisted':
      return { table: 'interaction_events', row: { ...base, jav_id: e.payload.jav_id, type: 'unwatchlist', rating: null } };
    case 'featured.item.created':
    case 'featured.item.updated':
    case 'featured.item.removed': {
      const f = e.payload;
      return {
        table: 'featured_events',
        row: {
          ...base,
          action: e.type.split('.')[2],
          item_type: f.item_type,
          item_id: f.item_id,
          group: f.group,
          previous_group: 'previous_group' in f ? f.previous_group : null,
          rank: f.rank,
          active: f.active ? 1 : 0,
          expires_at: f.expires_at,
          admin_user_id: f.admin_user_id,
        },
      };
    }
    default:
      return plainRow(e, base);
  }
}

async function rowsByEventId(): Promise<Map<string, { table: string; row: Record<string, unknown> }>> {
  const out = new Map<string, { table: string; row: Record<string, unknown> }>();
  for (const table of new Set(EVENT_TYPES.map((t) => expectedRow({ type: t, payload: {} } as unknown as TallyEvent).table))) {
    for (const r of (await suite.iso.tmp.db(table).select('*')) as Record<string, unknown>[]) {
      const { id: _id, ...row } = r;
      for (const k of ['occurred_at', 'received_at', 'expires_at']) if (k in row) row[k] = ms(row[k]);
      if (typeof row.filters === 'string') row.filters = JSON.parse(row.filters);
      out.set(row.event_id as string, { table, row });
    }
  }
  return out;
}

describe('event-logger: load and replay', () => {
  const group = uniqueName('el_load');
  let events: TallyEvent[];

  it(`logs ${PER_TYPE * EVENT_TYPES.length} events of all ${EVENT_TYPES.length} types exactly once, every field as produced`, async () => {
    events = makeEvents(PER_TYPE, EVENT_TYPES);
    expect(events.length).toBeGreaterThanOrEqual(10_000);
    await produceEvents(suite.iso.names, events);

    const proc = await startEventLogger(suite.iso, PORT, { GROUP_ID: group }, false);
    procs.push(proc);
    // Throughput on a backlog: from the first row to the last (process start and group join excluded).
    const first = await proc.until(async () => ((await totalRows(suite.iso.tmp.db)) > 0 ? Date.now() : undefined), 45_000, `a first row`);
    await waitForRows(suite.iso.tmp.db, events.length, 90_000);
    const seconds = (Date.now() - first) / 1000;
    console.log(`event-logger: ${events.length} rows in ${seconds.toFixed(2)} s (≈ ${Math.round(events.length / seconds)} rows/s)`);

    await expectExactlyOnce(suite.iso.tmp.db, events);
    const stored = await rowsByEventId();
    for (const e of events) {
      const want = expectedRow(e);
      const got = stored.get(e.payload.event_id);
      expect({ event: e.type, ...got }).toEqual({ event: e.type, ...want });
    }
    // Guests and signed-in viewers both present, bots flagged, empty filters and queries kept.
    const views = [...stored.values()].filter((r) => r.table === 'view_events').map((r) => r.row);
    expect(views.some((r) => r.user_id === null) && views.some((r) => r.user_id !== null)).toBe(true);
    expect(views.some((r) => r.is_bot === 1)).toBe(true);
    expect(views.some((r) => r.repeat_view === 1) && views.some((r) => r.repeat_view === 0)).toBe(true);

    await waitAllCommitted(group, suite.iso.names.eventTopics);
    const text = await metricsText(PORT);
    expect(counterSum(text, 'tally_raw_log_rows_inserted_total')).toBe(events.length);
    expect(counterSum(text, 'tally_messages_dead_lettered_total')).toBe(0);
    // Freshness (now − received_at) is observed for every processed event.
    expect(counterSum(text, 'tally_event_freshness_seconds_count')).toBe(events.length);

    // SIGTERM: drains, commits, exits 0.
    proc.signal('SIGTERM');
    expect((await proc.waitExit()).code).toBe(0);
  }, 150_000);

  it('a full replay from the earliest offsets (another group) changes no row', async () => {
    const before = await logsDigest(suite.iso.tmp.db);
    expect(before.rows).toBe(events.length);

    // A second group reads every topic from the earliest offset: the whole log is delivered again.
    // (kafkajs admin.resetOffsets joins the group once per topic, ~5 s each: the wait grows with the topics.)
    const replayGroup = uniqueName('el_replay');
    const proc = await startEventLogger(suite.iso, PORT, { GROUP_ID: replayGroup });
    procs.push(proc);
    await waitAllCommitted(replayGroup, suite.iso.names.eventTopics, 20_000 + 5_000 * suite.iso.names.eventTopics.length);
    expect(await logsDigest(suite.iso.tmp.db)).toEqual(before);

    const text = await metricsText(PORT);
    expect(counterSum(text, 'tally_raw_log_rows_inserted_total')).toBe(0);
    // Every replayed event was recognised as already logged.
    expect(counterSum(text, 'tally_messages_reprocessed_total')).toBeGreaterThanOrEqual(events.length);

    proc.signal('SIGTERM');
    expect((await proc.waitExit()).code).toBe(0);
  }, 120_000);
});
