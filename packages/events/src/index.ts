export * from './generated/events';
export { SCHEMAS_DIR, readSchemaSource, type AvroSchema, type TopicSpec, type DeadLetterSpec, type SchemaSource } from './schema-source';
export {
  type EventDefinition,
  isEventType,
  eventDefinition,
  eventDefinitions,
  topicFor,
  eventTypeForTopic,
  deadLetterTopic,
  keyFor,
} from './catalog';
export { validateEvent, type FieldError, type ValidationResult, type EventOf } from './validate';
export {
  DOMAIN_RULES,
  DOMAIN_SCHEMAS,
  DOMAIN_RULE_SPECS,
  UUID_PATTERN,
  CLIENT_TIME_PATTERN,
  MAX_AVRO_LONG,
  parseClientTime,
  type DomainRule,
  type DomainRuleSpec,
  type SchemaFragment,
  MIN_TIME_MS,
  MAX_TIME_MS,
  MAX_FUTURE_SKEW_MS,
  MAX_QUERY_CHARS,
  MAX_USER_AGENT_CHARS,
  MAX_NAME_CHARS,
} from './domain-rules';
export { checkCompatibility, type CompatibilityResult } from './compat';
export { diffSchemas, type SchemaProblem, type Direction } from './schema-diff';
export { renderEventTypes, checkGeneratedFile, GENERATED_FILE, type DriftResult } from './codegen';
export { sampleEvent, sampleEvents, sampleOwnFields, sampleTallyEvents } from './samples';
export { topicNames, DEFAULT_TOPIC_PREFIX, type TopicNames } from './topic-names';
export { avroJsonSchema, fieldJsonSchema } from './json-schema';
export { renderSdkEventTypes, checkSdkGeneratedFile, SDK_GENERATED_FILE } from './sdk-codegen';
export { SERVER_SET_FIELDS, SERVER_KEY_ONLY_FIELDS, CLIENT_TIME_FIELDS, SERVER_FILLED_FIELDS } from './client-fields';
export { NOT_STORED } from './raw-log';
