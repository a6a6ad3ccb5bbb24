export { baseConfigSchema, loadConfig, configOrExit, ConfigError, type BaseConfig, type LoadOptions } from './config';
export { RENAMED_SETTINGS, applyRenamed } from './renamed';
export { parseDuration, tryParseDuration, DURATION_FORMAT } from './duration';
export { partitionConcurrency, mysqlPoolSize, esIndexPrefix, esAliasName, trustedProxies, fastifyTrustProxy } from './shared';
export { csvList, port, bool, durationMs, jsonObject } from './types';
