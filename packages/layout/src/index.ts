export { counterKeys, ingestKeys, METRICS, type Metric } from './redis-keys';
export { esIndices, mongoCollections, jobNames } from './store-names';
