/**
 * Every error code Tally's services raise or answer with, in one place: the code (stable: logs,
 * metric labels and the `error.code` of HTTP bodies carry it), the HTTP status where the error
 * reaches an API, whether retrying can help, and what it means. TallyError takes only these codes,
 * so a new one is added here first; the SDK's list of server codes is checked against this one.
 */
export interface ErrorCodeInfo {
  /** The status an API answers with; absent for errors that never reach an HTTP client. */
  readonly httpStatus?: number;
  readonly retriable?: boolean;
  readonly message: string;
}

export const ERROR_CODES = {
  // Requests refused by ingest-api and query-api.
  AUTH_MISSING_KEY: { httpStatus: 401, message: 'no write key was sent' },
  AUTH_UNKNOWN_KEY: { httpStatus: 401, message: 'the write key is not one of BROWSER_KEYS or SERVER_KEYS' },
  AUTH_MISSING_TOKEN: { httpStatus: 401, message: 'no admin token was sent' },
  AUTH_UNKNOWN_TOKEN: { httpStatus: 401, message: 'the admin token is not one of ADMIN_TOKENS' },
  EVENT_TYPE_FORBIDDEN: { httpStatus: 403, message: 'the key may not send this event type (KEY_EVENT_TYPES)' },
  BODY_INVALID: { httpStatus: 400, message: 'the body is not one event or {"events": [...]}' },
  BODY_EMPTY: { httpStatus: 400, message: 'the body is empty' },
  JSON_INVALID: { httpStatus: 400, message: 'the body is not valid JSON' },
  GZIP_INVALID: { httpStatus: 400, message: 'the body is not valid gzip' },
  USER_TOKEN_INVALID: { httpStatus: 400, message: 'the user token is malformed' },
  VALIDATION_FAILED: { httpStatus: 400, message: 'an event or a request field is invalid' },
  INVALID_PARAMETER: { httpStatus: 400, message: 'a query or path parameter is invalid' },
  MOVIE_NOT_FOUND: { httpStatus: 404, message: 'no such movie' },
  USER_NOT_FOUND: { httpStatus: 404, message: 'no such user' },
  ROUTE_NOT_FOUND: { httpStatus: 404, message: 'no route for this method and path' },
  METHOD_NOT_ALLOWED: { httpStatus: 405, message: 'the path is served, not with this method' },
  BODY_TOO_LARGE: { httpStatus: 413, message: 'the body is larger than BODY_LIMIT_BYTES' },
  TOO_MANY_EVENTS: { httpStatus: 413, message: 'more events than MAX_EVENTS_PER_REQUEST' },
  CONTENT_TYPE_UNSUPPORTED: { httpStatus: 415, message: 'Content-Type is not application/json or text/plain' },
  ENCODING_UNSUPPORTED: { httpStatus: 415, message: 'Content-Encoding is not gzip' },
  RATE_LIMITED: { httpStatus: 429, message: 'rate limit exceeded; see Retry-After' },
  TAG_INDEX_MISSING: { httpStatus: 503, retriable: true, message: 'the tag index does not exist yet (es-sync has not run)' },
  MONGO_TIMEOUT: { httpStatus: 503, retriable: true, message: 'MongoDB did not answer in MONGO_TIMEOUT' },
  // A dependency is unavailable (DependencyError): try again later.
  KAFKA_UNAVAILABLE: { httpStatus: 503, retriable: true, message: 'Kafka is unavailable' },
  REGISTRY_UNAVAILABLE: { httpStatus: 503, retriable: true, message: 'the schema registry is unavailable' },
  ELASTICSEARCH_UNAVAILABLE: { httpStatus: 503, retriable: true, message: 'Elasticsearch/OpenSearch is unavailable' },
  // Schemas and the catalog mapping: an operator must fix them.
  SCHEMA_REJECTED: { message: 'the registry refused a schema' },
  SCHEMA_NOT_REGISTERED: { message: 'no schema registered for the subject in this process' },
  SCHEMA_MISMATCH: { message: "MySQL's schema is not what the catalog mapping says" },
  CATALOG_MAPPING_INVALID: { message: 'CATALOG_MAPPING is unreadable or invalid' },
  CATALOG_MISMATCH: { message: "the app's schema does not match the catalog mapping" },
  CATALOG_NOT_MIGRATED: { message: 'the database is not migrated (run tally migrate)' },
  CATALOG_ADOPT_REFUSED: { message: 'adopt apply found problems only the app team can fix' },
  BACKFILL_AFTER_START: { message: 'backfill refused: the counter has already counted events' },
  // Messages a consumer cannot decode: dead-lettered, never retried (422: never an HTTP answer today).
  POISON_UNDECODABLE: { httpStatus: 422, message: 'the message is not in the registry wire format' },
  POISON_UNKNOWN_SCHEMA: { httpStatus: 422, message: "the message's schema id is not in the registry" },
  POISON_INVALID_PAYLOAD: { httpStatus: 422, message: 'the decoded message is not a valid event' },
  // Consumers and jobs.
  COUNTER_APPLY_CONTENDED: { retriable: true, message: 'the counter could not apply a batch after 5 tries' },
  FLUSH_SOURCE_LOST: { retriable: true, message: "a flush's Redis hash vanished before the commit" },
  ES_SYNC_STOPPED: { retriable: true, message: 'a rebuild stopped before it finished' },
  ES_SYNC_ITEMS_FAILED: { retriable: true, message: 'bulk items still failed after ITEM_RETRIES' },
  ES_SYNC_INDEX_CHANGED: { message: 'an index changed while its replacement was built' },
  ES_SYNC_COPY_INCOMPLETE: { message: 'the copy of a foreign index is incomplete' },
  ES_SYNC_FOREIGN_INDEX: { message: '--reindex refused to replace indices es-sync did not create' },
  ES_SYNC_INDEX_MISSING: { message: 'an index or alias es-sync writes does not exist' },
  ES_SYNC_COUNT_FIELD_UNMAPPED: { message: 'the movie index has no field for a count' },
} as const satisfies Record<string, ErrorCodeInfo>;

export type ErrorCode = keyof typeof ERROR_CODES;
