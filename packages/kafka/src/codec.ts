import { COMPATIBILITY, SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import TimeoutMiddleware from 'mappersmith/middleware/timeout';
import { DependencyError, TallyError, errorMessage, type Logger } from '@tally/runtime';
import { encodeWire, PoisonMessageError, readWire, wireSchemaId, type AvroReader, type Decoded } from './wire-format';

export { PoisonMessageError, type PoisonReason, type Decoded } from './wire-format';

/** One schema of the catalog a service registers: the value schema of a topic, under `<topic>-value`. */
export interface CatalogSchema {
  subject: string;
  schema: object | string;
}

/** What registering the catalog gave: the id per subject, and the subjects whose id is not the one registered before. */
export interface CatalogRegistration {
  ids: ReadonlyMap<string, number>;
  changed: { subject: string; before: number; after: number }[];
}

export interface RegistryCodecOptions {
  /**
   * Every schema of the pipeline, in catalog order (the order `tally setup` registers them in). With
   * it, the codec can put back what a registry restarted empty forgot (see `ensureCatalog`), and a
   * message whose id the registry does not know is poison only once the catalog is registered.
   */
  catalog?: readonly CatalogSchema[];
  logger?: Logger;
  /** Each registry request's deadline (default `REGISTRY_TIMEOUT_MS`). */
  requestTimeoutMs?: number;
}

/** A registry answers in milliseconds (a cold one, its first registrations, in a few seconds); one that has not in 10 s is treated as down. */
export const REGISTRY_TIMEOUT_MS = 10_000;

function registryStatus(err: unknown): number | undefined {
  if (err && typeof err === 'object' && 'status' in err && typeof (err as { status: unknown }).status === 'number') {
    // mappersmith reports a request that got no answer at all (refused, reset, its own timeout) as
    // a response of status 400 with the network error as its message: that is the registry being
    // away, not the registry refusing the schema.
    if (NO_ANSWER.test(errorMessage(err))) return undefined;
    return (err as { status: number }).status;
  }
  return undefined;
}

const NO_ANSWER =
  /status 400: (Timeout \(\d+ms\)|.*\b(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN|EPIPE)\b|socket hang up)/;

/**
 * Avro through a Confluent-compatible registry. Schema ids are cached by the client library, so a
 * running service keeps decoding while the registry is briefly down; only first sightings ask it.
 * Decoding separates three fates: poison (bad bytes, unknown id) → dead letter; registry
 * unreachable → retriable, so a registry outage never dead-letters good data.
 *
 * A registry that forgot everything (an Apicurio run in memory, `REGISTRY_STORAGE=mem`, empties on
 * every restart; the stack's and compose's keep their data in MySQL and do not) is not poison either: with a catalog, an unknown id while some catalog schema is missing from its
 * subject means "forgot", and the codec registers the catalog again and retries the lookup. The ids
 * come back the same because Apicurio numbers each distinct schema content in order of first
 * registration, and every Tally service registers the whole catalog in one order, so on an empty
 * registry the catalog's schemas get the ids they had when `tally setup` first registered them.
 * Limit: that holds only while the registry held nothing but the current catalog. After a schema
 * change (v1 and v2 of a subject) or any other content (a `tally schemas check` subject), a reset
 * registry hands out different ids: messages still in Kafka with an old id are then, for a consumer
 * that has not cached it, either unknown (dead-lettered as unknown_schema, bytes kept) or, if the old
 * id now names another schema, read with that one (Avro usually refuses the body → undecodable,
 * dead-lettered; a body that happens to fit would be misread). The wire format carries only the id,
 * so nothing can tell the two apart: a registry that must survive restarts needs persistent storage,
 * which is why the stack and compose run Apicurio's SQL storage (tests/stack/registry-storage.test.ts).
 * `ensureCatalog` reports changed ids so the services can say it loudly.
 */
export class RegistryCodec {
  readonly registry: SchemaRegistry;
  private readonly subjectIds = new Map<string, number>();
  private readonly catalog: readonly CatalogSchema[];
  private readonly logger: Logger | undefined;
  private ensuring: Promise<CatalogRegistration> | undefined;
  private readonly timeoutMs: number;
  /** Writer schemas by id, once fetched: an id names one schema for good, so decoding a known id needs no await. */
  private readonly readers = new Map<number, AvroReader>();

  constructor(
    readonly url: string,
    opts: RegistryCodecOptions = {},
  ) {
    // Two quick retries absorb a blip (a refused connection; a request past the deadline is not
    // retried); a longer outage surfaces to the caller (503 at the edge,
    // backoff in consumers) instead of hanging inside the client. The client sets no timeout of its
    // own: a registry that accepts the connection and never answers would hold a decode (and the
    // partition behind it, or a whole `tally replay`) for ever.
    this.timeoutMs = opts.requestTimeoutMs ?? REGISTRY_TIMEOUT_MS;
    this.registry = new SchemaRegistry({
      host: url,
      clientId: 'tally',
      retry: { retries: 2, initialRetryTimeInSecs: 0.1 },
      middlewares: [TimeoutMiddleware(this.timeoutMs)],
    });
    this.catalog = opts.catalog ?? [];
    this.logger = opts.logger;
  }

  /**
   * Registers every catalog schema, one after another in catalog order (idempotent: an unchanged
   * schema keeps its id). Concurrent callers share one pass. Ids that differ from the ones this
   * process registered before are reported in `changed` (see the class comment for what that means).
   */
  async ensureCatalog(): Promise<CatalogRegistration> {
    this.ensuring ??= (async () => {
      try {
        const before = new Map(this.subjectIds);
        const ids = new Map<string, number>();
        for (const { subject, schema } of this.catalog) ids.set(subject, await this.register(subject, schema));
        const changed = [...ids]
          .filter(([s, id]) => before.has(s) && before.get(s) !== id)
          .map(([subject, after]) => ({ subject, before: before.get(subject)!, after }));
        return { ids, changed };
      } finally {
        this.ensuring = undefined;
      }
    })();
    return this.ensuring;
  }

  /**
   * Whether the registry lost the catalog: some catalog schema is not registered under its subject.
   * Asked only after a lookup by id failed, so a deleted subject costs a re-registration, not a dead letter.
   */
  async catalogLost(): Promise<boolean> {
    return (await this.lookupCatalog(true)).size < this.catalog.length;
  }

  /**
   * The id the registry has for each catalog schema under its subject, without registering anything
   * (a subject or schema it does not have is left out; `firstMissing` stops at the first one).
   */
  async lookupCatalog(firstMissing = false): Promise<Map<string, number>> {
    const base = this.url.replace(/\/+$/, '');
    const ids = new Map<string, number>();
    for (const { subject, schema } of this.catalog) {
      let res: Response;
      try {
        res = await fetch(`${base}/subjects/${encodeURIComponent(subject)}`, {
          method: 'POST',
          headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
          body: JSON.stringify({ schema: typeof schema === 'string' ? schema : JSON.stringify(schema) }),
          signal: AbortSignal.timeout(this.timeoutMs),
        });
      } catch (err) {
        throw new DependencyError('registry', `cannot look up ${subject}: ${errorMessage(err)}`, err);
      }
      if (res.status === 404) {
        if (firstMissing) break;
        continue;
      }
      if (res.status !== 200) throw new DependencyError('registry', `looking up ${subject} answered ${res.status}`);
      ids.set(subject, ((await res.json()) as { id: number }).id);
    }
    return ids;
  }

  /** Registers (idempotently) and returns the id; BACKWARD is the level the stack's registry enforces. */
  async register(subject: string, schema: object | string, attempt = 1): Promise<number> {
    try {
      const { id } = await this.registry.register(
        { type: SchemaType.AVRO, schema: typeof schema === 'string' ? schema : JSON.stringify(schema) },
        { subject, compatibility: COMPATIBILITY.BACKWARD },
      );
      this.subjectIds.set(subject, id);
      return id;
    } catch (err) {
      const status = registryStatus(err);
      // A subject new to the registry gets its compatibility level set right after the schema is
      // registered. Two services doing that at once (every service registers the catalog when it
      // finds the registry empty) both try; Apicurio answers the second 409 "A rule named
      // 'COMPATIBILITY' already exists". The schema is in by then: asking again finds the level set.
      if (status === 409 && attempt === 1) return this.register(subject, schema, 2);
      if (status !== undefined && status >= 400 && status < 500) {
        throw new TallyError('SCHEMA_REJECTED', `registry refused the schema for ${subject}: ${errorMessage(err)}`, { cause: err });
      }
      throw new DependencyError('registry', `cannot register ${subject}: ${errorMessage(err)}`, err);
    }
  }

  /** The id registered by this process for a subject (register first). */
  idFor(subject: string): number {
    const id = this.subjectIds.get(subject);
    if (id === undefined) throw new TallyError('SCHEMA_NOT_REGISTERED', `no schema registered for ${subject} in this process`);
    return id;
  }

  async encode(schemaId: number, value: unknown): Promise<Buffer> {
    try {
      return await this.registry.encode(schemaId, value);
    } catch (err) {
      if (err instanceof Error && err.name === 'ConfluentSchemaRegistryValidationError') {
        const paths = (err as Error & { paths?: string[][] }).paths ?? [];
        throw new PoisonMessageError(
          'invalid_payload',
          `value does not match schema ${schemaId} at ${paths.map((p) => p.join('.')).join(', ') || '(root)'}`,
          err,
        );
      }
      throw new DependencyError('registry', `cannot encode with schema ${schemaId}: ${errorMessage(err)}`, err);
    }
  }

  /**
   * Encodes a value that the caller has already validated against `type` (the same schema as
   * `schemaId`): header + avsc body, skipping the client library's second validation pass
   * (≈15 µs → ≈2 µs per event, measured; it was a third of the ingest API's CPU per event).
   */
  encodeValidated(schemaId: number, type: { encode(v: unknown, buf: Buffer, pos: number): number }, value: unknown): Buffer {
    return encodeWire(schemaId, type, value);
  }

  async decode<T = unknown>(buffer: Buffer | null): Promise<Decoded<T>> {
    return this.decodeKnown<T>(buffer) ?? readWire<T>(buffer!, await this.schemaFor(wireSchemaId(buffer)));
  }

  /**
   * Decodes synchronously when the message's schema id was fetched before (what a running consumer
   * meets nearly always): undefined when the registry must be asked first (`decode` does). Throws
   * PoisonMessageError for bytes that are not a message of that schema. A promise per message was a
   * tenth of a consumer's CPU at 20,000 messages/s (#19).
   */
  decodeKnown<T = unknown>(buffer: Buffer | null): Decoded<T> | undefined {
    const type = this.readers.get(wireSchemaId(buffer));
    return type === undefined ? undefined : readWire<T>(buffer!, type);
  }

  private async schemaFor(schemaId: number, repaired = false): Promise<AvroReader> {
    try {
      const type = (await this.registry.getSchema(schemaId)) as unknown as AvroReader;
      this.readers.set(schemaId, type);
      return type;
    } catch (err) {
      if (registryStatus(err) !== 404) throw new DependencyError('registry', `cannot fetch schema ${schemaId}: ${errorMessage(err)}`, err);
      // Unknown id. A registry that forgot the catalog gets it back (in catalog order, so with the
      // old ids). Then the id is asked for once more, in any case: a repair by this process, another
      // one, or another service may have finished between the 404 and the check (a cold consumer's
      // start-up registration racing its first batch dead-lettered a valid event that way).
      if (!repaired && this.catalog.length > 0) {
        if (await this.catalogLost()) {
          this.logger?.warn({ schemaId }, 'the registry lost the schemas (restarted empty?): registering the catalog again');
          const { changed } = await this.ensureCatalog();
          if (changed.length > 0)
            this.logger?.error(
              { changed },
              'the registry gave different schema ids than before: messages with the old ids cannot be read reliably',
            );
        }
        return this.schemaFor(schemaId, true);
      }
      throw new PoisonMessageError(
        'unknown_schema',
        `schema id ${schemaId} is unknown to the registry${repaired ? ', which has the catalog' : ''}`,
        err,
      );
    }
  }
}
