import { eventDefinition, eventDefinitions, keyFor, type EventType, type TallyEvent, type TopicNames } from '@tally/events';
import { DependencyError, errorMessage, type Logger } from '@tally/runtime';
import type { OutgoingRecord, RegistryCodec, TallyProducer } from '@tally/kafka';

/**
 * Encodes accepted events with the registered schema of their topic and produces them all at once;
 * resolves only when Kafka acknowledged every record (acks=all), otherwise throws a retriable error
 * so the client gets 503 and retries the whole request with the same event ids.
 */
export class EventSink {
  private schemaIds = new Map<EventType, number>();

  constructor(
    private readonly codec: RegistryCodec,
    private readonly producer: TallyProducer,
    private readonly logger: Logger,
    private readonly names: TopicNames,
  ) {}

  get ready(): boolean {
    return this.schemaIds.size === eventDefinitions().length;
  }

  /** Idempotent: the registry returns the existing id for an unchanged schema. */
  async registerSchemas(): Promise<void> {
    const ids = new Map<EventType, number>();
    for (const d of eventDefinitions()) ids.set(d.type, await this.codec.register(this.names.subjectFor(d.type), d.avroSchema));
    this.schemaIds = ids;
    this.logger.info({ schemas: ids.size }, 'schemas registered');
  }

  async produce(events: TallyEvent[]): Promise<void> {
    if (!this.ready) throw new DependencyError('registry', 'schemas are not registered yet');
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
