import { mkdtempSync, cpSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deadLetterTopic, eventDefinition, eventDefinitions, eventTypeForTopic, keyFor, topicFor } from './catalog';
import { EVENT_TYPES, type EventType, type TallyEvent } from './generated/events';
import { sampleEvents } from './samples';
import { readSchemaSource, SCHEMAS_DIR } from './schema-source';

const FLUSH_INTERVAL_MS = 5 * 60_000;

describe('topic catalog', () => {
  it('has one topic per event type, named tally.<type>, with a subject <topic>-value', () => {
    // The generated list is the catalog's: one type per entry of schemas/topics.json.
    const catalogued = readSchemaSource().events.map((e) => e.type);
    expect(EVENT_TYPES).toEqual(catalogued);
    const topics = EVENT_TYPES.map(topicFor);
    expect(new Set(topics).size).toBe(catalogued.length);
    for (const type of EVENT_TYPES) {
      expect(topicFor(type)).toBe(`tally.${type}`);
      expect(eventDefinition(type).subject).toBe(`tally.${type}-value`);
      expect(eventTypeForTopic(`tally.${type}`)).toBe(type);
    }
    expect(eventTypeForTopic(deadLetterTopic().topic)).toBeUndefined();
  });

  it('keeps events long enough to replay a Redis loss, and dead letters longer', () => {
    for (const d of eventDefinitions()) {
      expect(d.partitions).toBe(6);
      expect(d.retention_ms).toBe(7 * 86_400_000);
      expect(d.retention_ms).toBeGreaterThan(100 * FLUSH_INTERVAL_MS);
    }
    expect(deadLetterTopic()).toMatchObject({ topic: 'tally.dead-letter', retention_ms: 30 * 86_400_000 });
  });
});

describe('keyFor', () => {
  const samples = sampleEvents();
  const event = <T extends EventType>(type: T, patch: Partial<(typeof samples)[T]> = {}) =>
    ({ type, payload: { ...samples[type], ...patch } }) as TallyEvent;

  // Samples: guests use ip 2001:db8::7:1, signed-in viewers are user 1024 (see samples.ts).
  it.each<[EventType, string]>([
    ['movie.viewed', '48213'],
    ['movie.downloaded', '48213'],
    ['movie.rated', 'user:1024:48213'],
    ['movie.liked', 'ip:2001:db8::7:1:48213'],
    ['movie.unliked', 'user:1024:48213'],
    ['movie.watchlisted', 'user:1024:5120'],
    ['movie.unwatchlisted', 'ip:2001:db8::7:1:5120'],
    ['actor.viewed', '311'],
    ['tag.viewed', '27'],
    ['search.performed', 'user:1024'],
    ['recommendation.clicked', '5120'],
    ['featured.item.created', 'actor:311'],
    ['featured.item.updated', 'actor:311'],
    ['featured.item.removed', 'actor:311'],
  ])('%s is keyed %s', (type, key) => {
    expect(keyFor(event(type))).toBe(key);
  });

  it('gives a like and its unlike by the same viewer the same key, so both topics co-partition', () => {
    const patch = { user_id: 9, jav_id: 77 };
    expect(keyFor(event('movie.liked', patch))).toBe(keyFor(event('movie.unliked', patch)));
    expect(keyFor(event('movie.watchlisted', patch))).toBe(keyFor(event('movie.unwatchlisted', patch)));
  });

  it('never gives a guest the key of a user, and separates viewers and movies', () => {
    const keys = [
      keyFor(event('movie.rated', { user_id: 12, ip: '10.0.0.1', jav_id: 5 })),
      keyFor(event('movie.rated', { user_id: null, ip: '10.0.0.1', jav_id: 5 })),
      keyFor(event('movie.rated', { user_id: 12, ip: '10.0.0.2', jav_id: 6 })),
      keyFor(event('movie.rated', { user_id: 13, ip: '10.0.0.1', jav_id: 5 })),
    ];
    expect(new Set(keys).size).toBe(4);
    // A user's key does not depend on the ip they happen to use.
    expect(keyFor(event('movie.rated', { user_id: 12, ip: '192.0.2.9', jav_id: 5 }))).toBe(keys[0]);
  });

  it('keys movie counters by the movie only, whoever the viewer', () => {
    expect(keyFor(event('movie.viewed', { user_id: 1 }))).toBe(keyFor(event('movie.viewed', { user_id: null, ip: '10.1.1.1' })));
  });
});

describe('readSchemaSource', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tally-schemas-'));
    cpSync(SCHEMAS_DIR, dir, { recursive: true });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const editCatalog = (edit: (c: { events: Record<string, Record<string, unknown>> }) => void) => {
    const path = join(dir, 'topics.json');
    const catalog = JSON.parse(readFileSync(path, 'utf8'));
    edit(catalog);
    writeFileSync(path, JSON.stringify(catalog));
  };

  it('reads every event type with its schema', () => {
    const source = readSchemaSource(dir);
    expect(source.events.map((e) => e.type)).toEqual([...EVENT_TYPES]);
  });

  it('refuses an .avsc file that no event type uses, naming it', () => {
    editCatalog((c) => delete c.events['tag.viewed']);
    expect(() => readSchemaSource(dir)).toThrow(/topics\.json: no event type uses tag-viewed\.avsc/);
  });

  it('refuses a topic whose schema file is missing, naming the file', () => {
    editCatalog((c) => (c.events['tag.viewed']!.schema = 'tag-seen.avsc'));
    expect(() => readSchemaSource(dir)).toThrow(/tag-seen\.avsc/);
  });
});
