import { eventDefinition } from './catalog';
import { EVENT_TYPES } from './generated/events';
import { sampleEvents } from './samples';
import { validateEvent } from './validate';

describe('Avro round trip of a realistic event of each type', () => {
  const samples = sampleEvents();

  it.each(EVENT_TYPES.map((t) => [t]))('%s encodes, decodes to the same value, and is valid', (type) => {
    const { avroType } = eventDefinition(type);
    const value = samples[type];
    const bytes = avroType.toBuffer(value);
    expect(bytes.length).toBeGreaterThan(40);
    expect(avroType.fromBuffer(bytes)).toEqual(value);
    expect(validateEvent(type, value)).toEqual({ ok: true, event: { type, payload: value } });
  });

  it('keeps epoch-millisecond timestamps as plain numbers through the codec', () => {
    const { avroType } = eventDefinition('featured.item.created');
    const decoded = avroType.fromBuffer(avroType.toBuffer(samples['featured.item.created'])) as Record<string, unknown>;
    expect(decoded.expires_at).toBe(samples['featured.item.created'].expires_at);
    expect(typeof decoded.received_at).toBe('number');
  });

  it('refuses to encode a value that breaks the schema', () => {
    const { avroType } = eventDefinition('movie.rated');
    expect(() => avroType.toBuffer({ ...samples['movie.rated'], rating: '4' })).toThrow('invalid "int": "4"');
  });
});
