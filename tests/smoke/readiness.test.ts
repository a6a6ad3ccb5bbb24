import { createElasticsearchClient, createMongo, createMysql, createRedis, readiness } from '@tally/clients';
import { env } from '../helpers/env';

describe('readiness probes against the real servers', () => {
  const db = createMysql({ url: env.MYSQL_URL });
  const redis = createRedis({ url: env.REDIS_URL });
  const mongo = createMongo({ url: env.MONGO_URL });
  const es = createElasticsearchClient({ url: env.ES_URL, flavor: env.ES_FLAVOR });
  const deadDb = createMysql({ url: 'mysql://tally:tally@127.0.0.1:1/tally' });
  const deadMongo = createMongo({ url: 'mongodb://127.0.0.1:1/tally', serverSelectionTimeoutMs: 300 });
  afterAll(async () => {
    await Promise.all([db.destroy(), deadDb.destroy(), mongo.close(), deadMongo.close(), es.close()]);
    redis.disconnect();
  });

  it('pass while each server answers', async () => {
    await redis.ping();
    await expect(Promise.resolve(readiness.mysql(db).check())).resolves.toBeDefined();
    await expect(readiness.redis(redis).check()).resolves.toBeUndefined();
    await expect(Promise.resolve(readiness.mongo(mongo).check())).resolves.toMatchObject({ ok: 1 });
    await expect(readiness.elasticsearch(es).check()).resolves.toBeUndefined();
  });

  it('fail with the dependency error when a server is unreachable', async () => {
    await expect(Promise.resolve(readiness.mysql(deadDb).check())).rejects.toThrow(/ECONNREFUSED/);
    await expect(Promise.resolve(readiness.mongo(deadMongo).check())).rejects.toThrow(/ECONNREFUSED|Server selection timed out/);
  });
});
