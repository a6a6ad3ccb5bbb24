import { baseConfigSchema, loadConfig, ConfigError } from '@tally/config';
import { createLogger, type Logger } from '@tally/runtime';

export type CliConfig = ReturnType<typeof loadCliConfig>;

export function loadCliConfig() {
  return loadConfig(baseConfigSchema);
}

/** Errors a person can act on exit 1 with one line; config errors (the environment, the mapping file) exit 2 (see `tally --help`). */
export async function runCommand(fn: (config: CliConfig, logger: Logger) => Promise<number | void>): Promise<void> {
  let config: CliConfig;
  try {
    config = loadCliConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`tally: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger({ service: 'tally-cli', level: config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL });
  try {
    const code = await fn(config, logger);
    process.exitCode = code ?? 0;
  } catch (err) {
    process.stderr.write(`tally: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = (err as { code?: unknown } | null)?.code === 'CATALOG_MAPPING_INVALID' ? 2 : 1;
  }
}
