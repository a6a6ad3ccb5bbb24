import { Partitioners, type ICustomPartitioner } from 'kafkajs';

/**
 * Java's `Utils.murmur2` (the Java client's default partitioner, which kafkajs' DefaultPartitioner
 * follows) in 32-bit integer arithmetic. kafkajs computes the same function with a Long object per
 * step: about 2 µs and a dozen allocations per record, on ingest's path for every event (#19).
 * partitioner.test.ts holds it equal to kafkajs' own over random keys, so placement never changes.
 */
export function murmur2(data: Uint8Array, length = data.length): number {
  const m = 0x5bd1e995;
  let h = 0x9747b28c ^ length;
  const length4 = length & ~3;
  for (let i = 0; i < length4; i += 4) {
    let k = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m) ^ k;
  }
  // The last one to three bytes, as Java's switch with fall-through takes them.
  const rest = length & 3;
  if (rest === 3) h ^= data[length4 + 2]! << 16;
  if (rest >= 2) h ^= data[length4 + 1]! << 8;
  if (rest >= 1) h = Math.imul(h ^ data[length4]!, m);
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

/** Keys are encoded here, not in a new Buffer each: keys are short (a viewer and a movie id). */
const scratch = Buffer.allocUnsafe(1024);

/** The partition the Java client gives a key: positive murmur2 of its UTF-8 bytes, modulo the count. */
export function partitionForKey(key: string | Buffer, partitions: number): number {
  let hash: number;
  if (Buffer.isBuffer(key)) hash = murmur2(key);
  else if (key.length * 3 <= scratch.length) hash = murmur2(scratch, scratch.write(key, 0, 'utf8'));
  else hash = murmur2(Buffer.from(key, 'utf8'));
  return (hash & 0x7fffffff) % partitions;
}

/**
 * kafkajs asks the partitioner again on every retry of a request, and a record without a key would
 * land somewhere else each time (a copy per attempt, or nowhere: see TallyProducer). So each record
 * is placed once, on its first attempt, and its `partition` says so from then on: a keyed record as
 * the Java client places it, a keyless one round-robin as kafkajs does.
 */
export const placeOnce: ICustomPartitioner = () => {
  const keyless = Partitioners.DefaultPartitioner();
  return (args) => {
    const message = args.message;
    if (message.partition === undefined || message.partition === null) {
      const key = message.key;
      message.partition = key === undefined || key === null ? keyless(args) : partitionForKey(key, args.partitionMetadata.length);
    }
    return message.partition;
  };
};
