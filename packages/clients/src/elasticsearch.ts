import { Client, Transport, type ClientOptions } from '@elastic/elasticsearch';
import type { TransportOptions } from '@elastic/transport';

export type EsFlavor = 'elasticsearch' | 'opensearch';

/**
 * The 8.x client checks every response for `x-elastic-product: Elasticsearch` and sends
 * `application/vnd.elasticsearch+json; compatible-with=8`, which OpenSearch answers with 406.
 * For OpenSearch we switch the product check off and send plain JSON; every API call is unchanged,
 * so the same service code runs against real Elasticsearch in production.
 */
export class OpenSearchTransport extends Transport {
  constructor(opts: TransportOptions) {
    super({
      ...opts,
      // undefined, not the client's "Elasticsearch": the transport then skips the x-elastic-product check.
      productCheck: undefined,
      vendoredHeaders: {
        jsonContentType: 'application/json',
        ndjsonContentType: 'application/x-ndjson',
        accept: 'application/json, text/plain',
      },
    });
  }
}

export interface EsClientSettings {
  url: string;
  flavor: EsFlavor;
  requestTimeoutMs?: number;
}

/** Options for `new Client(...)`; separate from the factory so the flavor switch is unit-testable. */
export function elasticsearchClientOptions(s: EsClientSettings): ClientOptions {
  return {
    node: s.url,
    requestTimeout: s.requestTimeoutMs ?? 30_000,
    maxRetries: 3,
    ...(s.flavor === 'opensearch' ? { Transport: OpenSearchTransport } : {}),
  };
}

export function createElasticsearchClient(s: EsClientSettings): Client {
  return new Client(elasticsearchClientOptions(s));
}
