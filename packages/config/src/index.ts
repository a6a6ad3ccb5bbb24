export { baseConfigSchema, loadConfig, ConfigError, type BaseConfig } from './config';
export { csvList, port, bool, durationMs } from './types';
