import { eventDefinition, sampleEvents } from '@tally/events';
import { RegistryCodec } from './codec';

describe('RegistryCodec.encodeValidated', () => {
  // No registry is contacted: encoding with a known id is local.
  const codec = new RegistryCodec('http://127.0.0.1:1/never-called');
  const type = eventDefinition('movie.viewed').avroType;
  const wire = (id: number, value: unknown) => Buffer.concat([Buffer.from([0, 0, 0, 0, id]), type.toBuffer(value)]);

  it('writes the Confluent header and the Avro body, each record in a buffer of its own', () => {
    const v = sampleEvents()['movie.viewed'];
    const a = codec.encodeValidated(7, type, v);
    const b = codec.encodeValidated(9, type, { ...v, jav_id: 1 });
    expect(a.equals(wire(7, v))).toBe(true);
    // The second encoding reused the working buffer: the first record must not have changed.
    expect(a.equals(wire(7, v))).toBe(true);
    expect(b.equals(wire(9, { ...v, jav_id: 1 }))).toBe(true);
    expect(type.fromBuffer(a.subarray(5))).toEqual(type.fromBuffer(type.toBuffer(v)));
  });

  it('encodes a record larger than its working buffer, and the ones after it', () => {
    const v = sampleEvents()['movie.viewed'];
    const big = { ...v, user_agent: 'x'.repeat(200_000) };
    expect(codec.encodeValidated(3, type, big).equals(wire(3, big))).toBe(true);
    expect(codec.encodeValidated(3, type, v).equals(wire(3, v))).toBe(true);
  });
});
