import Redis from 'ioredis';
import { noteReseedLua } from '@tally/layout';
import { env, uniqueName } from '../helpers/env';

// The rule both seed scripts (the counter's apply script, the query API's seed script) share, on the
// real Redis: a seed is noted for the flusher's re-align exactly when a flush may have been between
// its take and its commit at some point from the seed's MySQL read to its SET.
const redis = new Redis(env.REDIS_URL, { lazyConnect: true });
const base = uniqueName('tally:test:reseed');
const k = { flushes: `${base}:flushes`, generation: `${base}:generation`, realign: `${base}:realign` };
// A seed's SET as the scripts do it: KEYS flushes, generation, realign set; ARGV the generation seen before the read, the field.
const SEED = `${noteReseedLua({ flushes: 'KEYS[1]', generation: 'KEYS[2]', realign: 'KEYS[3]', seen: 'ARGV[1]' })}
noteReseed(ARGV[2])
noteReseed(ARGV[3])
return 1`;
const seed = (seen: string, ...fields: [string, string]) => redis.eval(SEED, 3, k.flushes, k.generation, k.realign, seen, ...fields);
const noted = async () => (await redis.smembers(k.realign)).sort();

beforeAll(() => redis.connect());
afterEach(() => redis.del(k.flushes, k.generation, k.realign));
afterAll(() => redis.quit());

describe('noteReseedLua', () => {
  it('notes nothing when no flush ever ran (no generation yet) and none is registered', async () => {
    await seed('', 'views:1', 'likes:1');
    expect(await redis.exists(k.realign)).toBe(0);
  });

  it('notes nothing when the generation is the one seen before the read and no flush is registered', async () => {
    await redis.set(k.generation, '6');
    await seed('6', 'views:1', 'likes:1');
    expect(await redis.exists(k.realign)).toBe(0);
  });

  it('notes the fields when a flush was taken or cleaned up since the read (the generation moved)', async () => {
    await redis.set(k.generation, '7');
    await seed('6', 'views:1', 'likes:2');
    expect(await noted()).toEqual(['likes:2', 'views:1']);
  });

  it('notes the fields when the generation moved from none (the first flush ran since the read)', async () => {
    await redis.set(k.generation, '1');
    await seed('', 'views:3', 'views:3');
    expect(await noted()).toEqual(['views:3']);
  });

  it('notes the fields while a flush is registered (taken before the read, not cleaned up yet)', async () => {
    await redis.set(k.generation, '6');
    await redis.sadd(k.flushes, 'f1');
    await seed('6', 'downloads:4', 'views:4');
    expect(await noted()).toEqual(['downloads:4', 'views:4']);
  });
});
