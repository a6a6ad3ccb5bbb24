export { baseConfigSchema, loadConfig, configOrExit, ConfigError, type BaseConfig } from './config';
export { csvList, port, bool, durationMs, jsonObject } from './types';
