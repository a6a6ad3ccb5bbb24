import { TallyError } from './errors';

/**
 * MySQL/MariaDB errors that mean the schema is not what the code expects. Retrying cannot help (the
 * table or column will not appear by itself), so a consumer meeting one stops with its message
 * instead of retrying the same chunk for ever.
 */
const SCHEMA_ERRNOS = new Set([
  1054, // ER_BAD_FIELD_ERROR: unknown column
  1146, // ER_NO_SUCH_TABLE
  1049, // ER_BAD_DB_ERROR: unknown database
  1051, // ER_BAD_TABLE_ERROR
  1176, // ER_KEY_DOES_NOT_EXITS: FORCE INDEX of a missing index
  1364, // ER_NO_DEFAULT_FOR_FIELD: an insert misses a NOT NULL column
]);

export function isSchemaError(err: unknown): boolean {
  const errno = (err as { errno?: unknown } | null)?.errno;
  return typeof errno === 'number' && SCHEMA_ERRNOS.has(errno);
}

/**
 * For a sink's catch: a schema error becomes a non-retriable coded error (the runner then stops the
 * service with it, exit 2); anything else is returned as it is, to be retried.
 */
export function classifyStoreError(err: unknown): unknown {
  if (!isSchemaError(err)) return err;
  return new TallyError(
    'SCHEMA_MISMATCH',
    `MySQL refused a statement because the schema is not what the catalog mapping says: ${(err as { sqlMessage?: string }).sqlMessage ?? (err as Error).message}. Fix the mapping or the schema (run \`tally adopt check\`), then restart.`,
    { retriable: false, exitCode: 2, cause: err },
  );
}
