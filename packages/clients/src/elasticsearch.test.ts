import { Client } from '@elastic/elasticsearch';
import { elasticsearchClientOptions, OpenSearchTransport } from './elasticsearch';

describe('Elasticsearch client flavor switch', () => {
  it('uses the stock transport (product check, compatible-with=8 headers) for real Elasticsearch', () => {
    const opts = elasticsearchClientOptions({ url: 'http://127.0.0.1:9200', flavor: 'elasticsearch' });
    expect(opts.Transport).toBeUndefined();
    const client = new Client(opts);
    expect(client.transport).not.toBeInstanceOf(OpenSearchTransport);
  });

  // Records the headers the transport sends, and answers like a server without x-elastic-product.
  async function sentHeaders(flavor: 'elasticsearch' | 'opensearch') {
    const client = new Client(elasticsearchClientOptions({ url: 'http://127.0.0.1:9200', flavor }));
    const seen: Record<string, string>[] = [];
    const pool = client.connectionPool as unknown as {
      connections: { request: (p: { headers: Record<string, string> }) => Promise<unknown> }[];
    };
    pool.connections[0]!.request = async (params) => {
      seen.push(params.headers);
      return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: '{"ok":true}' };
    };
    const result = await client.transport.request({ method: 'POST', path: '/x/_doc', body: { a: 1 } }).then(
      (body) => ({ body }),
      (error: Error) => ({ error }),
    );
    return { headers: seen[0]!, result, client };
  }

  it('turns the product check off and sends plain JSON for OpenSearch', async () => {
    const { headers, result, client } = await sentHeaders('opensearch');
    expect(client.transport).toBeInstanceOf(OpenSearchTransport);
    expect(headers['content-type']).toBe('application/json');
    expect(headers.accept).not.toContain('vnd.elasticsearch');
    expect(result).toEqual({ body: { ok: true } });
  });

  it('keeps the product check for Elasticsearch (a server without the product header is refused)', async () => {
    const { headers, result } = await sentHeaders('elasticsearch');
    expect(headers['content-type']).toContain('compatible-with=8');
    expect('error' in result && result.error.name).toBe('ProductNotSupportedError');
  });
});
