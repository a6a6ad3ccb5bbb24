export {
  createElasticsearchClient,
  elasticsearchClientOptions,
  OpenSearchTransport,
  type EsFlavor,
  type EsClientSettings,
} from './elasticsearch';
export { createMysql, type MysqlSettings } from './mysql';
export { createRedis, type RedisSettings } from './redis';
export { createMongo, type MongoSettings } from './mongo';
export { readiness } from './checks';
