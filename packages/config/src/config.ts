import { z } from 'zod';
import { csvList } from './types';
import { applyRenamed, RENAMED_SETTINGS } from './renamed';

/**
 * Settings every service shares. Defaults point at the local stack (stack/stack), so a developer
 * runs a service with no environment at all; production sets each variable.
 */
export const baseConfigSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  KAFKA_BROKERS: csvList().default('127.0.0.1:9092'),
  KAFKA_CLIENT_ID: z.string().min(1).default('tally'),
  SCHEMA_REGISTRY_URL: z.string().url('must be a URL').default('http://127.0.0.1:8081/apis/ccompat/v7'),
  MYSQL_URL: z.string().url('must be a URL like mysql://user:pass@host:3306/db').default('mysql://tally:tally@127.0.0.1:3306/tally'),
  REDIS_URL: z.string().url('must be a URL like redis://host:6379').default('redis://127.0.0.1:6379'),
  MONGO_URL: z.string().url('must be a URL like mongodb://host:27017/db').default('mongodb://127.0.0.1:27017/tally'),
  ES_URL: z.string().url('must be a URL').default('http://127.0.0.1:9200'),
  // The local stack runs OpenSearch; production may run real Elasticsearch 8/9 with the same code.
  ES_FLAVOR: z.enum(['elasticsearch', 'opensearch']).default('opensearch'),
  // Topic names are `<prefix><event type>` (tally.movie.viewed); another environment or a test on the
  // same cluster uses its own prefix, and so its own topics and registry subjects.
  TOPIC_PREFIX: z
    .string()
    .regex(/^[a-zA-Z0-9._-]*$/, 'may contain only letters, digits, ".", "_" and "-"')
    .default('tally.'),
  // Path of the JSON file mapping the web app's tables, columns, Redis keys and indices (@tally/catalog,
  // docs/adopting.md); unset = the demo schema Tally migrates and seeds itself.
  CATALOG_MAPPING: z.string().min(1).optional(),
});
export type BaseConfig = z.infer<typeof baseConfigSchema>;

/** Thrown when the environment does not satisfy a service's schema; the message names each variable. */
export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  readonly retriable = false;
  constructor(readonly problems: { variable: string; reason: string }[]) {
    super('invalid configuration:\n' + problems.map((p) => `  ${p.variable}: ${p.reason}`).join('\n'));
    this.name = 'ConfigError';
  }
}

export interface LoadOptions {
  /** Old name → new name; RENAMED_SETTINGS unless given (tests). */
  renamed?: Readonly<Record<string, string>>;
  /** Where deprecation warnings go; stderr by default, each message once per process. */
  warn?: (message: string) => void;
}

// loadConfig runs before any logger exists (the logger's level is a setting), so warnings go to
// stderr; a service that loads its config twice (tests, the CLI) still prints each one once.
const warned = new Set<string>();
const warnOnce = (message: string) => {
  if (warned.has(message)) return;
  warned.add(message);
  process.stderr.write(`warning: ${message}\n`);
};

/**
 * Parses the environment once against a service's schema and freezes the result.
 * This is the only place in Tally that reads process.env.
 * Empty strings count as unset, so `FOO= npm start` falls back to the default.
 * A renamed setting (RENAMED_SETTINGS) set under its old name is used, with a warning.
 */
export function loadConfig<S extends z.ZodTypeAny>(
  schema: S,
  env: Record<string, string | undefined> = process.env,
  options: LoadOptions = {},
): Readonly<z.infer<S>> {
  const cleaned: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && v !== '') cleaned[k] = v;
  const renamed = applyRenamed(cleaned, options.renamed ?? RENAMED_SETTINGS);
  const result = schema.safeParse(renamed.env);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((i) => ({
        variable: i.path.length > 0 ? String(i.path[0]) : '(environment)',
        reason: i.code === 'invalid_type' && i.received === 'undefined' ? 'is required but not set' : i.message,
      })),
    );
  }
  for (const w of renamed.warnings) (options.warn ?? warnOnce)(w);
  return Object.freeze(result.data);
}

/**
 * For a service's entry point: the parsed configuration, or — when the environment is invalid — the
 * problems printed one per variable and exit code 2, before any connection is made.
 */
export function configOrExit<T>(service: string, load: () => T): T {
  try {
    return load();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${service}: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}
