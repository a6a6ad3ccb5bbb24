import type { Client as EsClient } from '@elastic/elasticsearch';
import type Redis from 'ioredis';
import type { Knex } from 'knex';
import type { MongoClient } from 'mongodb';

/**
 * Readiness probes for /readyz: each throws with the dependency's own error while it is unusable.
 * Cheap on purpose (a probe runs every few seconds).
 */
export const readiness = {
  mysql: (db: Knex) => ({ name: 'mysql', check: () => db.raw('SELECT 1') }),
  redis: (redis: Redis) => ({
    name: 'redis',
    check: async () => {
      if (redis.status !== 'ready') throw new Error(`connection ${redis.status}`);
      await redis.ping();
    },
  }),
  mongo: (client: MongoClient) => ({ name: 'mongodb', check: () => client.db().command({ ping: 1 }) }),
  elasticsearch: (es: EsClient) => ({
    name: 'elasticsearch',
    check: async () => {
      if (!(await es.ping())) throw new Error('ping failed');
    },
  }),
};
