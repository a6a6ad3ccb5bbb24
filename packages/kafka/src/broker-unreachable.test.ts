import { KafkaJSConnectionError, KafkaJSNonRetriableError, KafkaJSNumberOfRetriesExceeded, KafkaJSProtocolError } from 'kafkajs';
import { isBrokerUnreachable } from './runner';

// Which crashes the runner recovers from in-process (a new kafkajs client) instead of exiting.
describe('isBrokerUnreachable', () => {
  it('recognizes a broker that is away, also when kafkajs wrapped the cause', () => {
    expect(isBrokerUnreachable(new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:9092'))).toBe(true);
    expect(isBrokerUnreachable(new KafkaJSNumberOfRetriesExceeded(new Error('x'), { retryCount: 8, retryTime: 10_000 }))).toBe(true);
    expect(isBrokerUnreachable(new KafkaJSNonRetriableError(new KafkaJSConnectionError('Closed connection')))).toBe(true);
    const noBroker = Object.assign(new Error('No brokers available'), { name: 'KafkaJSNoBrokerAvailableError' });
    expect(isBrokerUnreachable(noBroker)).toBe(true);
  });

  it('leaves real failures fatal (the supervisor restarts the process)', () => {
    expect(isBrokerUnreachable(new KafkaJSProtocolError('Not authorized to access group'))).toBe(false);
    expect(isBrokerUnreachable(new TypeError("Cannot read properties of undefined (reading 'offset')"))).toBe(false);
    expect(isBrokerUnreachable(undefined)).toBe(false);
  });

  it('follows cause chains a few levels deep, and matches messages of plain errors', () => {
    expect(isBrokerUnreachable(new Error('wrapped', { cause: new Error('read ECONNRESET') }))).toBe(true);
    expect(isBrokerUnreachable(new Error('write EPIPE'))).toBe(true);
    expect(isBrokerUnreachable(Object.assign(new Error('x'), { name: 'KafkaJSGroupCoordinatorNotFound' }))).toBe(true);
    // Five wrappers deep is past what kafkajs nests: not looked at (and a cycle cannot loop).
    let deep: Error = new Error('connect ECONNREFUSED');
    for (let i = 0; i < 5; i++) deep = new Error(`level ${i}`, { cause: deep });
    expect(isBrokerUnreachable(deep)).toBe(false);
    const cyclic = new Error('a') as Error & { cause?: unknown };
    cyclic.cause = cyclic;
    expect(isBrokerUnreachable(cyclic)).toBe(false);
  });
});
