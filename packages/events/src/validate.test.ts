import { Type, type Schema } from 'avsc';
import { eventDefinition } from './catalog';
import { MIN_TIME_MS } from './domain-rules';
import { EVENT_TYPES, type EventType } from './generated/events';
import { sampleEvents } from './samples';
import { validateEvent, type FieldError } from './validate';

const DAY = 86_400_000;
const samples = sampleEvents();

/** Errors of a sample with `patch` applied (a key set to undefined is removed). */
function errorsOf<T extends EventType>(type: T, patch: Record<string, unknown>): FieldError[] {
  const value: Record<string, unknown> = { ...samples[type], ...patch };
  for (const [k, v] of Object.entries(patch)) if (v === undefined) delete value[k];
  const result = validateEvent(type, value);
  return result.ok ? [] : result.errors;
}

describe('validateEvent accepts', () => {
  it.each(EVENT_TYPES.map((t) => [t]))('the sample %s', (type) => {
    expect(errorsOf(type, {})).toEqual([]);
  });

  it('a guest event (user_id null, IPv6) and a signed-in one (IPv4)', () => {
    expect(errorsOf('movie.viewed', { user_id: null, ip: '2001:db8::1' })).toEqual([]);
    expect(errorsOf('movie.viewed', { user_id: 5, ip: '198.51.100.3' })).toEqual([]);
  });

  it('a value without the defaulted fields, and returns it with the Avro defaults filled in', () => {
    const { sent_at: _s, user_id: _u, user_agent: _a, is_bot: _b, ...bare } = samples['movie.viewed'];
    const result = validateEvent('movie.viewed', bare);
    expect(result).toEqual({
      ok: true,
      event: { type: 'movie.viewed', payload: { ...bare, sent_at: null, user_id: null, user_agent: null, is_bot: false } },
    });
  });

  it('an occurred_at up to exactly 1 day after received_at, and an empty search query', () => {
    const received = samples['movie.viewed'].received_at;
    expect(errorsOf('movie.viewed', { occurred_at: received + DAY })).toEqual([]);
    expect(errorsOf('search.performed', { query: '', filters: {} })).toEqual([]);
  });
});

describe('validateEvent rejects, naming the field and the constraint', () => {
  it.each<[string, EventType, Record<string, unknown>, FieldError]>([
    [
      'a non-UUID event_id',
      'movie.viewed',
      { event_id: 'abc-123' },
      { field: 'event_id', reason: 'must be a UUID (8-4-4-4-12 hexadecimal digits, version 1-8)' },
    ],
    [
      'the nil UUID',
      'movie.viewed',
      { event_id: '00000000-0000-0000-0000-000000000000' },
      { field: 'event_id', reason: expect.stringContaining('must be a UUID') },
    ],
    [
      'an occurred_at before 2000',
      'movie.viewed',
      { occurred_at: MIN_TIME_MS - 1 },
      { field: 'occurred_at', reason: 'must be epoch milliseconds not before 2000-01-01T00:00:00.000Z' },
    ],
    [
      'an occurred_at in seconds',
      'movie.viewed',
      { occurred_at: 1_741_944_413 },
      { field: 'occurred_at', reason: expect.stringContaining('not before 2000') },
    ],
    [
      'an occurred_at over a day after received_at',
      'movie.viewed',
      { occurred_at: samples['movie.viewed'].received_at + DAY + 1 },
      { field: 'occurred_at', reason: 'must not be more than 1 day after received_at' },
    ],
    [
      'a sent_at over a day after received_at',
      'tag.viewed',
      { sent_at: samples['tag.viewed'].received_at + 2 * DAY },
      { field: 'sent_at', reason: 'must not be more than 1 day after received_at' },
    ],
    [
      'a received_at in 2200',
      'tag.viewed',
      { received_at: Date.UTC(2200, 0, 1) },
      { field: 'received_at', reason: 'must be epoch milliseconds from 2000-01-01T00:00:00.000Z to before 2100-01-01T00:00:00.000Z' },
    ],
    ['a fractional timestamp', 'tag.viewed', { occurred_at: 1.5 }, { field: 'occurred_at', reason: 'must be a safe integer' }],
    [
      'a timestamp given as an ISO string',
      'tag.viewed',
      { occurred_at: '2025-03-14T09:26:53Z' },
      { field: 'occurred_at', reason: 'must be a safe integer' },
    ],
    ['a zero user_id', 'movie.viewed', { user_id: 0 }, { field: 'user_id', reason: 'must be a positive integer' }],
    ['a negative jav_id', 'movie.viewed', { jav_id: -4 }, { field: 'jav_id', reason: 'must be a positive integer' }],
    ['a zero actor_id', 'actor.viewed', { actor_id: 0 }, { field: 'actor_id', reason: 'must be a positive integer' }],
    ['a zero tag_id', 'tag.viewed', { tag_id: 0 }, { field: 'tag_id', reason: 'must be a positive integer' }],
    ['a zero item_id', 'featured.item.created', { item_id: 0 }, { field: 'item_id', reason: 'must be a positive integer' }],
    [
      'a zero admin_user_id',
      'featured.item.removed',
      { admin_user_id: 0 },
      { field: 'admin_user_id', reason: 'must be a positive integer' },
    ],
    ['an invalid ip', 'movie.viewed', { ip: '300.1.2.3' }, { field: 'ip', reason: 'must be a valid IPv4 or IPv6 address' }],
    ['a hostname as ip', 'movie.viewed', { ip: 'localhost' }, { field: 'ip', reason: 'must be a valid IPv4 or IPv6 address' }],
    [
      'a 513-character user_agent',
      'movie.viewed',
      { user_agent: 'a'.repeat(513) },
      { field: 'user_agent', reason: 'must be at most 512 characters' },
    ],
    ['a rating of 6', 'movie.rated', { rating: 6 }, { field: 'rating', reason: 'must be an integer from 1 to 5' }],
    ['a rating of 0', 'movie.rated', { rating: 0 }, { field: 'rating', reason: 'must be an integer from 1 to 5' }],
    ['a rating of 3.5', 'movie.rated', { rating: 3.5 }, { field: 'rating', reason: 'must be an integer from -2147483648 to 2147483647' }],
    ['a 501-character query', 'search.performed', { query: 'q'.repeat(501) }, { field: 'query', reason: 'must be at most 500 characters' }],
    [
      'an unknown entity_type',
      'search.performed',
      { entity_type: 'studio' },
      { field: 'entity_type', reason: 'must be one of: movie, actor, tag' },
    ],
    [
      'a negative result_count',
      'search.performed',
      { result_count: -1 },
      { field: 'result_count', reason: 'must be an integer of 0 or more' },
    ],
    ['a non-string filter value', 'search.performed', { filters: { year: 2021 } }, { field: 'filters.year', reason: 'must be a string' }],
    [
      'an empty recommendation reason',
      'recommendation.clicked',
      { reason: '' },
      { field: 'reason', reason: 'must be a non-blank text of at most 64 characters' },
    ],
    [
      'a blank group',
      'featured.item.created',
      { group: '   ' },
      { field: 'group', reason: 'must be a non-blank text of at most 64 characters' },
    ],
    [
      'a 65-character group',
      'featured.item.updated',
      { group: 'g'.repeat(65) },
      { field: 'group', reason: 'must be a non-blank text of at most 64 characters' },
    ],
    [
      'an empty previous_group',
      'featured.item.updated',
      { previous_group: '' },
      { field: 'previous_group', reason: 'must be a non-blank text of at most 64 characters' },
    ],
    ['a negative rank', 'featured.item.created', { rank: -1 }, { field: 'rank', reason: 'must be an integer of 0 or more' }],
    [
      'an unknown item_type',
      'featured.item.created',
      { item_type: 'studio' },
      { field: 'item_type', reason: 'must be one of: movie, actor, tag' },
    ],
    [
      'an expires_at before 2000',
      'featured.item.created',
      { expires_at: 5 },
      { field: 'expires_at', reason: expect.stringContaining('from 2000-01-01') },
    ],
    ['a missing required field', 'movie.viewed', { jav_id: undefined }, { field: 'jav_id', reason: 'is required' }],
    ['a string user_id', 'movie.viewed', { user_id: '42' }, { field: 'user_id', reason: 'must be null or a safe integer' }],
    ['an unknown field', 'movie.viewed', { rating: 5 }, { field: 'rating', reason: 'is not a field of movie.viewed' }],
    [
      'previous_group on a created item',
      'featured.item.created',
      { previous_group: 'x' },
      { field: 'previous_group', reason: 'is not a field of featured.item.created' },
    ],
  ])('%s', (_what, type, patch, error) => {
    expect(errorsOf(type, patch)).toEqual([error]);
  });

  it('counts characters, not UTF-16 units: 500 emoji are a valid query', () => {
    expect(errorsOf('search.performed', { query: '🎬'.repeat(500) })).toEqual([]);
    expect(errorsOf('search.performed', { query: '🎬'.repeat(501) })).toEqual([
      { field: 'query', reason: 'must be at most 500 characters' },
    ]);
  });

  it('reports every bad field at once', () => {
    expect(
      errorsOf('movie.rated', { rating: 9, jav_id: 0, ip: 'nope' })
        .map((e) => e.field)
        .sort(),
    ).toEqual(['ip', 'jav_id', 'rating']);
  });

  it('an unknown event type', () => {
    expect(validateEvent('movie.deleted', samples['movie.viewed'])).toEqual({
      ok: false,
      errors: [
        {
          field: 'event_type',
          reason: expect.stringMatching(/^must be one of: movie\.viewed, .*featured\.item\.removed \(got 'movie\.deleted'\)$/),
        },
      ],
    });
  });

  it('a value that is not an object', () => {
    for (const v of [null, 'x', [1]]) {
      expect(validateEvent('movie.viewed', v)).toEqual({
        ok: false,
        errors: [{ field: '(event)', reason: 'must be an object with the fields of movie.viewed' }],
      });
    }
  });

  it('does not modify its input', () => {
    const input = { ...samples['movie.viewed'] } as Record<string, unknown>;
    delete input.is_bot;
    const copy = { ...input };
    validateEvent('movie.viewed', input);
    expect(input).toEqual(copy);
  });
});

describe('validateEvent of a value decoded with the writer schema (consumers)', () => {
  /** What a consumer holds: the sample written and read back with a writer type parsed on its own, as the registry client does. */
  function decoded<T extends EventType>(type: T, patch: Record<string, unknown> = {}): { value: unknown; writer: Type } {
    const { avroType, avroSchema } = eventDefinition(type);
    const writer = Type.forSchema(avroSchema as Schema);
    return { value: writer.fromBuffer(avroType.toBuffer({ ...samples[type], ...patch })), writer };
  }

  it.each(EVENT_TYPES.map((t) => [t]))('the current schema gives the same verdict as the whole check: %s', (type) => {
    const { value, writer } = decoded(type);
    const fast = validateEvent(type, value, { writer });
    expect(fast).toEqual(validateEvent(type, value));
    expect(fast.ok).toBe(true);
    // Only the domain rules ran: the decoded object is the payload, not a copy.
    expect((fast as { event: { payload: unknown } }).event.payload).toBe(value);
  });

  it('still applies every domain rule, with the same errors in the same order', () => {
    const received = samples['movie.rated'].received_at;
    const patch = { rating: 9, ip: '999.1.1.1', occurred_at: received + 2 * DAY, event_id: '00000000-0000-0000-0000-000000000000' };
    const { value, writer } = decoded('movie.rated', patch);
    const fast = validateEvent('movie.rated', value, { writer });
    expect(fast.ok).toBe(false);
    expect(fast).toEqual(validateEvent('movie.rated', value));
    expect(fast.ok ? [] : fast.errors.map((e) => e.field)).toEqual(expect.arrayContaining(['rating', 'ip', 'occurred_at', 'event_id']));
  });

  it('an older writer schema (a field the current one requires is missing) takes the whole check', () => {
    const { avroSchema } = eventDefinition('movie.viewed');
    const schema = avroSchema as { fields: { name: string }[] } & Record<string, unknown>;
    const older = Type.forSchema({ ...schema, fields: schema.fields.filter((f) => f.name !== 'jav_id') } as Schema);
    const { jav_id: _j, ...value } = samples['movie.viewed'];
    const r = validateEvent('movie.viewed', older.fromBuffer(older.toBuffer(value)), { writer: older });
    expect(r).toEqual({ ok: false, errors: [{ field: 'jav_id', reason: 'is required' }] });
  });

  it("a writer of another event type's schema takes the whole check (its fields are not this type's)", () => {
    const { value, writer } = decoded('actor.viewed');
    const r = validateEvent('movie.viewed', value, { writer });
    expect(r).toEqual(validateEvent('movie.viewed', value));
    expect(r.ok).toBe(false);
  });
});
