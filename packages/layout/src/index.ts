export { counterKeys, noteReseedLua, ingestKeys, appKeys, DEFAULT_APP_KEYS, METRICS, type Metric, type AppKeys } from './redis-keys';
export { mongoCollections, jobNames } from './store-names';
