import { Partitioners, type PartitionerArgs } from 'kafkajs';
import { murmur2, partitionForKey, placeOnce } from './partitioner';

const metadata = (n: number): PartitionerArgs['partitionMetadata'] =>
  Array.from({ length: n }, (_, partitionId) => ({ partitionId, leader: 0, partitionErrorCode: 0, replicas: [0], isr: [0] }));

/** Random strings of every UTF-8 width (1 to 4 bytes), lengths 0 to `max` code points. */
function randomKey(max: number): string {
  const alphabet = ['a', 'Z', '7', ':', 'é', 'ß', '漢', '字', '😀', '\u0000'];
  let s = '';
  const n = Math.floor(Math.random() * (max + 1));
  for (let i = 0; i < n; i++) s += alphabet[Math.floor(Math.random() * alphabet.length)];
  return s;
}

describe('partitionForKey', () => {
  it("places every key exactly where kafkajs' DefaultPartitioner (the Java client's murmur2) does", () => {
    const reference = Partitioners.DefaultPartitioner();
    const keys = [
      '',
      'a',
      'ab',
      'abc',
      'abcd',
      'user:42:1001',
      'ip:2001:db8::1:48213',
      ...Array.from({ length: 3_000 }, () => randomKey(40)),
      // Longer than the scratch buffer holds: the Buffer.from path.
      ...Array.from({ length: 20 }, () => randomKey(2_000)),
    ];
    for (const partitions of [1, 3, 6, 7, 64]) {
      for (const key of keys) {
        const expected = reference({ topic: 't', partitionMetadata: metadata(partitions), message: { key, value: null } });
        expect([key, partitionForKey(key, partitions)]).toEqual([key, expected]);
        expect(partitionForKey(Buffer.from(key), partitions)).toBe(expected);
      }
    }
  });

  it("gives the Java client's documented murmur2 values", () => {
    // Values from Kafka's own UtilsTest.testMurmur2 (clients/src/test/java/org/apache/kafka/common/utils).
    const cases: [string, number][] = [
      ['21', -973932308],
      ['foobar', -790332482],
      ['a-little-bit-long-string', -985981536],
      ['a-little-bit-longer-string', -1486304829],
      ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
    ];
    for (const [key, hash] of cases) expect(murmur2(Buffer.from(key))).toBe(hash);
  });
});

describe('placeOnce', () => {
  it('decides a record once: a retry asks again and gets the first answer, keyed or not', () => {
    const place = placeOnce();
    const keyless = { key: null, value: Buffer.from('x') } as PartitionerArgs['message'];
    const first = place({ topic: 't', partitionMetadata: metadata(6), message: keyless });
    for (let attempt = 0; attempt < 20; attempt++)
      expect(place({ topic: 't', partitionMetadata: metadata(6), message: keyless })).toBe(first);
    expect(keyless.partition).toBe(first);
    // Keyless records still spread round-robin, as kafkajs spreads them.
    const spread = new Set(
      Array.from({ length: 12 }, () => place({ topic: 't', partitionMetadata: metadata(6), message: { key: null, value: null } })),
    );
    expect(spread.size).toBe(6);
    const keyed = { key: 'user:7:9', value: null } as PartitionerArgs['message'];
    expect(place({ topic: 't', partitionMetadata: metadata(6), message: keyed })).toBe(partitionForKey('user:7:9', 6));
  });
});
