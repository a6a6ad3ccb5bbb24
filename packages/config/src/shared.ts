import { z } from 'zod';

// Settings that more than one service reads, each defined once so the name, the rule and the reason
// a value is refused are the same everywhere. A service may pick its own default.

/** Kafka partitions one process consumes at once (each its own chunk/transaction). */
export const partitionConcurrency = (defaultValue: number) => z.coerce.number().int().min(1).max(64).default(defaultValue);

/** Connections in the process's MySQL pool. */
export const mysqlPoolSize = () => z.coerce.number().int().min(1).max(100);

/**
 * ES_INDEX_PREFIX: prepended to every index and alias name es-sync writes and query-api reads, so
 * tests, benchmarks or a second environment share one cluster. es-sync's rule (it creates the
 * indices): lower case only, as Elasticsearch requires of index names, and no "." — query-api used
 * to accept one, for a prefix es-sync would refuse to build.
 */
export const esIndexPrefix = () =>
  z
    .string()
    .regex(/^[a-z0-9_-]*$/, 'may contain only lower-case letters, digits, "_" and "-"')
    .default('');

/** The name query-api reads and es-sync writes for one catalog index: `<prefix><index>`, e.g. `test_tags`. */
export function esAliasName(prefix: string, index: string): string {
  return `${prefix}${index}`;
}

/**
 * TRUSTED_PROXIES of the two HTTP APIs: the comma-separated addresses or CIDRs of the proxies whose
 * X-Forwarded-For is believed (the client's ip identifies guests and keys the rate limits).
 */
export const trustedProxies = () => z.string().default('');

/** TRUSTED_PROXIES as Fastify's `trustProxy`: the list, or false (trust no proxy) when empty. */
export function fastifyTrustProxy(list: string): string[] | false {
  const items = list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return items.length ? items : false;
}
