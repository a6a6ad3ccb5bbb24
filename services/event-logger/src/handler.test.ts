import {
  EVENT_TYPES,
  eventDefinition,
  sampleEvents,
  sampleOwnFields,
  topicNames,
  type EventPayloads,
  type EventType,
  type TallyEvent,
} from '@tally/events';
import { eventValidator } from '@tally/kafka';
import { filtersJson, NOT_STORED, rawRowOf, rowsByTable, sqlDateTime3, TABLE_COLUMNS, TABLE_FOR_TYPE } from './handler';

const event = <T extends EventType>(type: T, payload: EventPayloads[T]) => ({ type, payload }) as unknown as TallyEvent;
const samples = sampleEvents();
// 2025-03-14T09:26:53.589Z, the samples' received_at; occurred_at is 1,250 ms earlier.
const RECEIVED = '2025-03-14 09:26:53.589';
const OCCURRED = '2025-03-14 09:26:52.339';

function envelope(type: EventType) {
  const p = samples[type];
  return {
    event_id: p.event_id,
    user_id: p.user_id,
    ip: p.ip,
    user_agent: p.user_agent,
    is_bot: false,
    occurred_at: OCCURRED,
    received_at: RECEIVED,
  };
}

describe('rawRowOf: one row per event type, columns of migration 0003', () => {
  // Types with a conversion or a type column; any other type's row is its own fields as they are.
  const expected: Partial<Record<EventType, Record<string, unknown>>> = {
    'movie.viewed': { jav_id: 48213, repeat_view: false },
    'movie.downloaded': { jav_id: 48213 },
    'movie.rated': { jav_id: 48213, type: 'rate', rating: 4 },
    'movie.liked': { jav_id: 48213, type: 'like', rating: null },
    'movie.unliked': { jav_id: 48213, type: 'unlike', rating: null },
    'movie.watchlisted': { jav_id: 5120, type: 'watchlist', rating: null },
    'movie.unwatchlisted': { jav_id: 5120, type: 'unwatchlist', rating: null },
    'actor.viewed': { actor_id: 311 },
    'tag.viewed': { tag_id: 27 },
    'search.performed': {
      query: 'uncensored 2021 remaster',
      filters: '{"studio":"S1","year":"2021"}',
      entity_type: 'movie',
      result_count: 38,
    },
    'recommendation.clicked': { jav_id: 5120, reason: 'same_actor' },
    'featured.item.created': {
      action: 'created',
      item_type: 'actor',
      item_id: 311,
      group: 'homepage-hero',
      previous_group: null,
      rank: 2,
      active: true,
      expires_at: '2025-03-21 09:26:53.589',
      admin_user_id: 7,
    },
    'featured.item.updated': {
      action: 'updated',
      item_type: 'actor',
      item_id: 311,
      group: 'weekly-picks',
      previous_group: 'homepage-hero',
      rank: 0,
      active: true,
      expires_at: '2025-03-21 09:26:53.589',
      admin_user_id: 7,
    },
    'featured.item.removed': {
      action: 'removed',
      item_type: 'actor',
      item_id: 311,
      group: 'homepage-hero',
      previous_group: null,
      rank: 2,
      active: false,
      expires_at: null,
      admin_user_id: 7,
    },
  };

  it.each([...EVENT_TYPES])('%s', (type) => {
    const row = rawRowOf(event(type, samples[type]));
    expect(row).toEqual({ ...envelope(type), ...(expected[type] ?? sampleOwnFields(type)) });
    // Exactly the table's columns, in its INSERT order: nothing missing, nothing extra.
    expect(Object.keys(row).sort()).toEqual([...TABLE_COLUMNS[TABLE_FOR_TYPE[type]]].sort());
  });

  it('maps the types onto the 8 tables as the brief says', () => {
    // toMatchObject: a type added later is logged where topics.json says, these stay where they are.
    expect(TABLE_FOR_TYPE).toMatchObject({
      'movie.viewed': 'view_events',
      'movie.downloaded': 'download_events',
      'search.performed': 'search_events',
      'actor.viewed': 'actor_view_events',
      'tag.viewed': 'tag_view_events',
      'recommendation.clicked': 'recommendation_click_events',
      'movie.liked': 'interaction_events',
      'movie.unliked': 'interaction_events',
      'movie.rated': 'interaction_events',
      'movie.watchlisted': 'interaction_events',
      'movie.unwatchlisted': 'interaction_events',
      'featured.item.created': 'featured_events',
      'featured.item.updated': 'featured_events',
      'featured.item.removed': 'featured_events',
    });
  });
});

describe('view de-dup flag', () => {
  it("stores the ingest API's repeat_view verdict in view_events", () => {
    const repeat = rawRowOf(event('movie.viewed', { ...samples['movie.viewed'], repeat_view: true }));
    expect(repeat).toMatchObject({ jav_id: 48213, repeat_view: true });
    expect(TABLE_COLUMNS.view_events).toContain('repeat_view');
    expect(TABLE_COLUMNS.download_events).not.toContain('repeat_view');
  });

  it('logs a view written before the field existed (older schema in Kafka) as counted', () => {
    const { repeat_view: _v, ...older } = samples['movie.viewed'];
    const r = eventValidator(topicNames('t_abc.'))('t_abc.movie.viewed', older);
    if (!r.ok) throw new Error(r.detail);
    expect(rawRowOf(r.value)).toMatchObject({ event_id: older.event_id, repeat_view: false });
  });
});

describe('viewers', () => {
  it('guest: user_id null, the IPv6 address kept', () => {
    const row = rawRowOf(event('movie.viewed', { ...samples['movie.viewed'], user_id: null, ip: '2001:db8::7:1' }));
    expect(row).toMatchObject({ user_id: null, ip: '2001:db8::7:1' });
  });

  it('signed-in user, bot flag and missing user agent', () => {
    const row = rawRowOf(
      event('tag.viewed', { ...samples['tag.viewed'], user_id: 90210, ip: '198.51.100.9', user_agent: null, is_bot: true }),
    );
    expect(row).toMatchObject({ user_id: 90210, ip: '198.51.100.9', user_agent: null, is_bot: true });
  });
});

describe('time and filters', () => {
  it('DATETIME(3) text in UTC, milliseconds kept', () => {
    expect(sqlDateTime3(Date.UTC(2026, 10, 26, 23, 59, 59, 7))).toBe('2026-11-26 23:59:59.007');
    expect(sqlDateTime3(Date.UTC(2000, 0, 1))).toBe('2000-01-01 00:00:00.000');
  });

  it('filters as JSON text with sorted keys; no filters is {} and unicode survives', () => {
    expect(filtersJson({ year: '2021', actor: '三上', studio: 'S1' })).toBe('{"actor":"三上","studio":"S1","year":"2021"}');
    expect(JSON.parse(filtersJson({ year: '2021', actor: '三上' }))).toEqual({ year: '2021', actor: '三上' });
    expect(filtersJson({})).toBe('{}');
    const row = rawRowOf(event('search.performed', { ...samples['search.performed'], query: '', filters: { 'a "quoted"': 'x\\y' } }));
    expect(JSON.parse(row.filters as string)).toEqual({ 'a "quoted"': 'x\\y' });
    expect(row.query).toBe('');
  });
});

describe('rowsByTable', () => {
  it('groups by table and keeps the order of arrival', () => {
    const s = sampleEvents();
    const events = [
      event('movie.liked', s['movie.liked']),
      event('movie.viewed', s['movie.viewed']),
      event('movie.rated', s['movie.rated']),
      event('movie.viewed', { ...s['movie.viewed'], event_id: '3f2c7b9e-8d4a-4c1e-9f6b-000000000099' }),
    ];
    const grouped = rowsByTable(events);
    expect([...grouped.keys()]).toEqual(['interaction_events', 'view_events']);
    expect(grouped.get('interaction_events')!.map((r) => r.type)).toEqual(['like', 'rate']);
    expect(grouped.get('view_events')!.map((r) => r.event_id)).toEqual([
      s['movie.viewed'].event_id,
      '3f2c7b9e-8d4a-4c1e-9f6b-000000000099',
    ]);
  });
});

describe('every schema field has its raw-log column', () => {
  it('maps each field of each event type to a column of its table, or lists it in NOT_STORED', () => {
    // Named `<type>.<field> → <table>` so a failure says which field of which schema lacks its column.
    const missing = EVENT_TYPES.flatMap((type) => {
      const table = TABLE_FOR_TYPE[type];
      return eventDefinition(type)
        .avroType.fields.map((f) => f.name)
        .filter((field) => !TABLE_COLUMNS[table].includes(field) && NOT_STORED[field] === undefined)
        .map((field) => `${type}.${field} → ${table}`);
    });
    expect(missing).toEqual([]);
  });

  it('gives every not-stored field a reason, and stores none of them', () => {
    for (const [field, why] of Object.entries(NOT_STORED)) {
      expect(why.length).toBeGreaterThan(10);
      for (const columns of Object.values(TABLE_COLUMNS)) expect(columns).not.toContain(field);
    }
  });
});
