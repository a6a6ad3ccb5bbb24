import type { Knex } from 'knex';
import { ConfigError } from '@tally/config';
import { errorMessage, TallyError, type Logger } from '@tally/runtime';
import { assertCatalog } from './adopt';
import { Catalog, type CatalogPart } from './catalog';
import { loadCatalogMapping } from './mapping';

/**
 * The catalog of a service's configuration. A mapping file that cannot be read or parsed is an
 * invalid setting like any other: thrown as a ConfigError naming CATALOG_MAPPING, so the service's
 * configOrExit prints it and exits 2 before connecting to anything.
 */
export function catalogFromConfig(config: { CATALOG_MAPPING?: string | undefined }): Catalog {
  try {
    return new Catalog(loadCatalogMapping(config.CATALOG_MAPPING));
  } catch (err) {
    if (err instanceof TallyError && err.code === 'CATALOG_MAPPING_INVALID') {
      // "CATALOG_MAPPING (f.json) is invalid:\n  movies.id: …" → "  CATALOG_MAPPING: f.json is invalid:\n    movies.id: …"
      const reason = err.message
        .replace(/^CATALOG_MAPPING(: | \((.*?)\) )/, (_m, _sep: string, path?: string) => (path ? `${path} ` : ''))
        .replace(/\n/g, '\n  ');
      throw new ConfigError([{ variable: 'CATALOG_MAPPING', reason }]);
    }
    throw err;
  }
}

export interface CatalogStartCheck {
  /** Stops a check still waiting for MySQL (shutdown). */
  stop(): void;
}

/**
 * assertCatalog for a service's start. A schema that does not match is final: the first answer
 * throws, a later one goes to `onMismatch` (the service exits with the message). MySQL not usable
 * yet (down, refusing the login) is not a mismatch: the service starts as it always did, answering
 * 503 or failing runs until MySQL is back, and the check is retried every `retryMs` until it gets
 * an answer.
 */
export async function checkCatalogAtStart(
  db: Knex,
  catalog: Catalog,
  parts: readonly CatalogPart[],
  opts: { logger: Logger; onMismatch: (err: TallyError) => void; retryMs?: number },
): Promise<CatalogStartCheck> {
  // 5 s: a restarted MySQL is checked within seconds, and one information_schema read per 5 s costs nothing.
  const retryMs = opts.retryMs ?? 5_000;
  const definitive = (err: unknown): err is TallyError => err instanceof TallyError && !err.retriable;
  const attempt = async (): Promise<boolean> => {
    try {
      await assertCatalog(db, catalog, parts);
      opts.logger.info({ parts, database: catalog.mapping.database }, 'the app schema matches the catalog mapping');
      return true;
    } catch (err) {
      if (definitive(err)) throw err;
      opts.logger.warn({ err: errorMessage(err), retryMs }, 'cannot check the app schema yet (MySQL not usable); retrying');
      return false;
    }
  };
  if (await attempt()) return { stop: () => undefined };

  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const again = () => {
    timer = setTimeout(() => {
      attempt().then(
        (done) => {
          if (!done && !stopped) again();
        },
        (err: TallyError) => opts.onMismatch(err),
      );
    }, retryMs);
    // Never what keeps the process alive: the server or the schedule does that.
    timer.unref();
  };
  again();
  return {
    stop: () => {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
