import { COMPATIBILITY, SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { DependencyError, TallyError, errorMessage } from '@tally/runtime';

/** Why a message cannot be decoded; these go to the dead-letter topic, never retried. */
export type PoisonReason = 'undecodable' | 'unknown_schema' | 'invalid_payload';

export class PoisonMessageError extends TallyError {
  constructor(readonly reason: PoisonReason, message: string, cause?: unknown) {
    super(`POISON_${reason.toUpperCase()}`, message, { retriable: false, httpStatus: 422, cause });
    this.name = 'PoisonMessageError';
  }
}

export interface Decoded<T = unknown> {
  schemaId: number;
  value: T;
}

// Confluent wire format: magic byte 0, schema id (int32 big-endian), then the Avro body.
const HEADER_BYTES = 5;

function registryStatus(err: unknown): number | undefined {
  if (err && typeof err === 'object' && 'status' in err && typeof (err as { status: unknown }).status === 'number') {
    return (err as { status: number }).status;
  }
  return undefined;
}

/**
 * Avro through a Confluent-compatible registry. Schema ids are cached by the client library, so a
 * running service keeps decoding while the registry is briefly down; only first sightings ask it.
 * Decoding separates three fates: poison (bad bytes, unknown id) → dead letter; registry
 * unreachable → retriable, so a registry outage never dead-letters good data.
 */
export class RegistryCodec {
  readonly registry: SchemaRegistry;
  private readonly subjectIds = new Map<string, number>();

  constructor(readonly url: string) {
    // Two quick retries absorb a blip; a longer outage surfaces to the caller (503 at the edge,
    // backoff in consumers) instead of hanging inside the client.
    this.registry = new SchemaRegistry({ host: url, clientId: 'tally', retry: { retries: 2, initialRetryTimeInSecs: 0.1 } });
  }

  /** Registers (idempotently) and returns the id; BACKWARD is the level the stack's registry enforces. */
  async register(subject: string, schema: object | string): Promise<number> {
    try {
      const { id } = await this.registry.register(
        { type: SchemaType.AVRO, schema: typeof schema === 'string' ? schema : JSON.stringify(schema) },
        { subject, compatibility: COMPATIBILITY.BACKWARD },
      );
      this.subjectIds.set(subject, id);
      return id;
    } catch (err) {
      const status = registryStatus(err);
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
        throw new PoisonMessageError('invalid_payload', `value does not match schema ${schemaId} at ${paths.map((p) => p.join('.')).join(', ') || '(root)'}`, err);
      }
      throw new DependencyError('registry', `cannot encode with schema ${schemaId}: ${errorMessage(err)}`, err);
    }
  }

  /**
   * Encodes a value that the caller has already validated against `type` (the same schema as
   * `schemaId`): header + avsc body, skipping the client library's second validation pass
   * (≈15 µs → ≈2 µs per event, measured; it was a third of the ingest API's CPU per event).
   */
  encodeValidated(schemaId: number, type: { toBuffer(v: unknown): Buffer }, value: unknown): Buffer {
    const body = type.toBuffer(value);
    const out = Buffer.allocUnsafe(HEADER_BYTES + body.length);
    out[0] = 0;
    out.writeInt32BE(schemaId, 1);
    body.copy(out, HEADER_BYTES);
    return out;
  }

  async decode<T = unknown>(buffer: Buffer | null): Promise<Decoded<T>> {
    if (!buffer || buffer.length < HEADER_BYTES || buffer[0] !== 0) {
      throw new PoisonMessageError('undecodable', `not in the Confluent wire format (${buffer ? `${buffer.length} bytes, first byte ${buffer[0]}` : 'null value'})`);
    }
    const schemaId = buffer.readInt32BE(1);
    let type: { fromBuffer(b: Buffer): unknown };
    try {
      type = (await this.registry.getSchema(schemaId)) as unknown as typeof type;
    } catch (err) {
      if (registryStatus(err) === 404) throw new PoisonMessageError('unknown_schema', `schema id ${schemaId} is unknown to the registry`, err);
      throw new DependencyError('registry', `cannot fetch schema ${schemaId}: ${errorMessage(err)}`, err);
    }
    try {
      return { schemaId, value: type.fromBuffer(buffer.subarray(HEADER_BYTES)) as T };
    } catch (err) {
      throw new PoisonMessageError('undecodable', `Avro body does not match schema ${schemaId}: ${errorMessage(err)}`, err);
    }
  }
}
