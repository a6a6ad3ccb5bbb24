import { eventDefinition, eventDefinitions, keyFor, type EventType, type TallyEvent, type TopicNames } from '@tally/events';
import { DependencyError, errorMessage, type Logger } from '@tally/runtime';
import type { OutgoingRecord, RegistryCodec, TallyProducer } from '@tally/kafka';

/**
 * Encodes accepted events with the registered schema of their topic and produces them all at once;
 * resolves only when Kafka acknowledged every record (acks=all), otherwise throws a retriable error
 * so the client gets 503 and retries the whole request with the same event ids.
 *
 * Encoding uses the ids cached at registration, so a registry outage does not stop ingestion. A
 * registry that comes back empty (one run in memory, or emptied by hand; the stack's and compose's
 * keep their schemas in MySQL) is noticed by
 * `checkRegistry` (run periodically): the catalog is registered again, in catalog order — the
 * codec (a RegistryCodec built with the catalog) explains why the ids then come back the same — and
 * requests get 503 until that is done.
 */
export class EventSink {
  private schemaIds = new Map<EventType, number>();
  /** The registry lost the catalog: not ready (503) until it is registered again. */
  private repairing = false;

  constructor(
    private readonly codec: RegistryCodec,
    private readonly producer: TallyProducer,
    private readonly logger: Logger,
    private readonly names: TopicNames,
  ) {}

  get ready(): boolean {
    return !this.repairing && this.schemaIds.size === eventDefinitions().length;
  }

  /** Idempotent: the registry returns the existing id for an unchanged schema. */
  async registerSchemas(): Promise<void> {
    const { ids } = await this.codec.ensureCatalog();
    const next = new Map<EventType, number>();
    for (const d of eventDefinitions()) {
      const id = ids.get(this.names.subjectFor(d.type));
      if (id === undefined)
        throw new DependencyError('registry', `no id for ${this.names.subjectFor(d.type)} after registering the catalog`);
      next.set(d.type, id);
    }
    const changed = [...next]
      .filter(([t, id]) => this.schemaIds.has(t) && this.schemaIds.get(t) !== id)
      .map(([type, id]) => ({ type, before: this.schemaIds.get(type), after: id }));
    if (changed.length > 0) {
      // New events must carry the ids the registry knows now. Events already in Kafka with the old
      // ids may no longer be readable by a consumer that has not cached them (RegistryCodec explains
      // the limit); say so loudly, an operator has to look.
      this.logger.error(
        { changed },
        'the registry gave different schema ids than before: switching to the new ids; messages with the old ids may be dead-lettered',
      );
    }
    this.schemaIds = next;
    this.logger.info({ schemas: next.size }, 'schemas registered');
  }

  /**
   * One periodic check (not overlapping; the caller awaits it): the registry must still have every
   * catalog schema under its subject with the id we encode with. If it forgot them (restarted empty),
   * stop accepting (503), register them again, and accept again. An unreachable registry changes
   * nothing: the cached ids stay valid for as long as it does not come back different.
   */
  async checkRegistry(): Promise<void> {
    if (this.schemaIds.size === 0) return; // not registered yet: start-up registration is on it
    if (!this.repairing) {
      let registered: Map<string, number>;
      try {
        registered = await this.codec.lookupCatalog();
      } catch (err) {
        this.logger.debug({ err: errorMessage(err) }, 'registry check failed (next check retries)');
        return;
      }
      const intact = eventDefinitions().every((d) => registered.get(this.names.subjectFor(d.type)) === this.schemaIds.get(d.type));
      if (intact) return;
      this.repairing = true;
      this.logger.warn(
        { registered: registered.size, expected: this.schemaIds.size },
        'the registry lost the schemas (restarted empty?): registering them again; answering 503 until done',
      );
    }
    try {
      await this.registerSchemas();
      this.repairing = false;
    } catch (err) {
      this.logger.warn({ err: errorMessage(err) }, 'cannot register the schemas again yet (next check retries)');
    }
  }

  async produce(events: TallyEvent[]): Promise<void> {
    if (!this.ready)
      throw new DependencyError(
        'registry',
        this.repairing ? 'the registry is being given the schemas again' : 'schemas are not registered yet',
      );
    let records: OutgoingRecord[];
    try {
      // Events reaching here passed validateEvent against this very schema, so encode without re-checking.
      records = events.map((e) => ({
        topic: this.names.topicFor(e.type),
        key: keyFor(e),
        value: this.codec.encodeValidated(this.schemaIds.get(e.type)!, eventDefinition(e.type).avroType, e.payload),
      }));
    } catch (err) {
      // Validated events always encode; a failure here is the registry or a bug, not the client.
      throw new DependencyError('registry', `encoding failed: ${errorMessage(err)}`, err);
    }
    await this.producer.send(records);
  }
}
