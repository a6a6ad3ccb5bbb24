import { createRedis } from '@tally/clients';
import { env, uniqueName } from '../helpers/env';

describe('smoke: Redis through ioredis', () => {
  const redis = createRedis({ url: env.REDIS_URL, connectionName: 'smoke' });
  const key = uniqueName('smoke:views');
  afterAll(async () => {
    await redis.del(key, `${key}:off`);
    redis.disconnect();
  });

  it('INCR and INCRBY', async () => {
    expect(await redis.incr(key)).toBe(1);
    expect(await redis.incrby(key, 41)).toBe(42);
  });

  it('runs a Lua script atomically (compare-and-set of an offset plus an increment)', async () => {
    const script = `
      local cur = redis.call('GET', KEYS[2])
      if (cur or '-1') ~= ARGV[1] then return {'conflict', cur or '-1'} end
      redis.call('INCRBY', KEYS[1], ARGV[3])
      redis.call('SET', KEYS[2], ARGV[2])
      return {'ok', redis.call('GET', KEYS[1])}`;
    expect(await redis.eval(script, 2, key, `${key}:off`, '-1', '10', '8')).toEqual(['ok', '50']);
    // The same batch again (stale expected offset) changes nothing.
    expect(await redis.eval(script, 2, key, `${key}:off`, '-1', '10', '8')).toEqual(['conflict', '10']);
    expect(await redis.get(key)).toBe('50');
  });
});
