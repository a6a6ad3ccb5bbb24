export { createKafka } from './client';
export {
  RegistryCodec,
  PoisonMessageError,
  type PoisonReason,
  type Decoded,
  type CatalogSchema,
  type CatalogRegistration,
  type RegistryCodecOptions,
} from './codec';
export { eventSchemaCatalog } from './schema-catalog';
export { TallyProducer, type OutgoingRecord, type ProducerSettings } from './producer';
export {
  ConsumerRunner,
  type ConsumerRunnerOptions,
  type PartitionBatch,
  type DecodedMessage,
  type BatchOutcome,
  type Validation,
} from './runner';
export { DLQ_HEADERS, deadLetterRecord, type DeadLetter } from './dead-letter';
export { ensureTopics, type TopicSpec } from './admin';
export { backoffMs } from './backoff';
export { eventValidator, INVALID_PAYLOAD } from './event-validation';
export { runConsumerService, type ConsumerServiceConfig, type ConsumerServiceParts, type SinkBinding } from './consumer-service';
export { consumerLag, type GroupLag, type PartitionLag } from './lag';
export { RangeReader, type OffsetRange, type RangeBatch, type RangePosition, type RangeReaderOptions } from './range-reader';
export { decodeMessage } from './chunk-processor';
