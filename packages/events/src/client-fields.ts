/**
 * How the ingest API's clients see the event schemas: which fields only the server sets (a client
 * sending one is refused), which only a server key may send, and which client times may be ISO
 * strings. The ingest API, its OpenAPI document and the SDK's generated types all read these lists.
 */

/** Set by the server only; a client value would be a lie about the server's own clock or verdicts. */
export const SERVER_SET_FIELDS: readonly string[] = ['received_at', 'is_bot', 'repeat_view'];

/** The end user's, forwarded by the web app's back end: only with a server key (else the request's own). */
export const SERVER_KEY_ONLY_FIELDS = ['ip', 'user_agent'] as const;

/** Client clock times: ISO-8601 strings or epoch milliseconds (other times are epoch milliseconds only). */
export const CLIENT_TIME_FIELDS = ['occurred_at', 'sent_at'] as const;

/** Envelope fields a client may leave out: the server assigns the id and takes its own clock. */
export const SERVER_FILLED_FIELDS: readonly string[] = ['event_id', 'occurred_at', 'sent_at'];
