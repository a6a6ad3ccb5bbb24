import { TallyClient, type TallyClientOptions } from './client';
import type { TallyError } from './errors';
import { acceptAll, startFakeIngest, waitFor, type FakeIngest, type Reply, type SeenRequest } from './testing/fake-ingest';

let ingest: FakeIngest;
const clients: TallyClient[] = [];

async function setup(reply: (request: SeenRequest, n: number) => Reply, options: Partial<TallyClientOptions> = {}) {
  ingest = await startFakeIngest(reply);
  const errors: TallyError[] = [];
  // Backoff of a few ms keeps the tests fast; the delays themselves are covered by the Retry-After test.
  const c = new TallyClient({
    endpoint: ingest.url,
    key: 'srv_test',
    flushIntervalMs: 60_000,
    retryBaseMs: 5,
    retryMaxMs: 20,
    onError: (e) => errors.push(e),
    ...options,
  });
  clients.push(c);
  c.track({ type: 'movie.viewed', jav_id: 1 });
  c.track({ type: 'actor.viewed', actor_id: 2 });
  return { c, errors };
}

/** Fails the first `n` requests with `failure`, then accepts. */
const failFirst = (n: number, failure: Reply) => (request: SeenRequest, i: number) => (i < n ? failure : acceptAll(request));

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await ingest.close();
});

test('after a 503 the whole batch is re-sent with the same event ids and occurred_at', async () => {
  const { c } = await setup(failFirst(1, { status: 503, body: { error: { code: 'unavailable', message: 'kafka down' } } }));
  const result = await c.flush();

  expect(result).toMatchObject({ accepted: 2, rejected: [], retained: [] });
  const [first, second] = ingest.requests.map((r) => r.body.events);
  expect(second?.map((e) => [e.event_id, e.occurred_at])).toEqual(first?.map((e) => [e.event_id, e.occurred_at]));
  expect(c.stats().retries).toBe(1);
});

test('after a connection reset the batch is re-sent with the same event ids', async () => {
  const { c } = await setup(failFirst(1, 'reset'));
  const result = await c.flush();

  expect(result.accepted).toBe(2);
  expect(ingest.requests).toHaveLength(2);
  const ids = ingest.eventIds();
  expect(ids.slice(2)).toEqual(ids.slice(0, 2));
});

test('a request that outlives timeoutMs is abandoned and retried with the same ids', async () => {
  const { c } = await setup(failFirst(1, 'hang'), { timeoutMs: 250 });
  const result = await c.flush();

  expect(result.accepted).toBe(2);
  const [first, second] = ingest.requests;
  // The retry came only after the timeout: the hung request was waited on for timeoutMs, not less.
  expect(second!.at - first!.at).toBeGreaterThanOrEqual(240);
  const ids = ingest.requests.map((r) => r.body.events.map((e) => e.event_id));
  expect(ids.every((batch) => JSON.stringify(batch) === JSON.stringify(ids[0]))).toBe(true);
});

test('Retry-After is waited out even when the backoff would be shorter, and sent_at is stamped per attempt', async () => {
  const { c } = await setup(failFirst(1, { status: 429, headers: { 'retry-after': '1' } }), { retryBaseMs: 1, retryMaxMs: 2 });
  await c.flush();

  const [first, second] = ingest.requests;
  expect(second!.at - first!.at).toBeGreaterThanOrEqual(990); // 1 s asked; backoff alone would be ≤ 2 ms
  const sentAt = (r: SeenRequest) => Date.parse(String(r.body.events[0]?.sent_at));
  expect(sentAt(second!) - sentAt(first!)).toBeGreaterThanOrEqual(990);
  expect(second!.body.events[0]?.event_id).toBe(first!.body.events[0]?.event_id);
});

test('a 400 is not retried and its field errors reach the result and onError', async () => {
  const { c, errors } = await setup(() => ({
    status: 400,
    body: {
      error: { code: 'invalid_events', message: 'no valid event' },
      errors: [
        { index: 0, field: 'jav_id', reason: 'must be a positive integer' },
        { index: 1, field: 'actor_id', reason: 'must be a positive integer' },
      ],
    },
  }));
  const result = await c.flush();

  expect(ingest.requests).toHaveLength(1);
  expect(result.accepted).toBe(0);
  expect(result.rejected.map((r) => [r.event.type, r.status, r.code, r.errors])).toEqual([
    ['movie.viewed', 400, 'invalid_events', [{ field: 'jav_id', reason: 'must be a positive integer' }]],
    ['actor.viewed', 400, 'invalid_events', [{ field: 'actor_id', reason: 'must be a positive integer' }]],
  ]);
  expect(errors).toHaveLength(1);
  expect(errors[0]).toMatchObject({ code: 'events_rejected', retriable: false, status: 400 });
  expect(c.stats()).toMatchObject({ queued: 0, rejected: 2, retries: 0 });
});

test.each([
  [401, 'unauthorized'],
  [413, 'payload_too_large'],
  [415, 'unsupported_media_type'],
])('a %i is not retried and rejects every event of the batch', async (status, code) => {
  const { c, errors } = await setup(() => ({ status, body: { error: { code: `server_${status}`, message: `refused ${status}` } } }));
  const result = await c.flush();

  expect(ingest.requests).toHaveLength(1);
  expect(result.rejected).toHaveLength(2);
  expect(result.rejected[0]).toMatchObject({ status, code: `server_${status}`, errors: [{ field: '', reason: `refused ${status}` }] });
  expect(errors.map((e) => [e.code, e.retriable, e.events.length])).toEqual([[code, false, 2]]);
});

test('when retries run out the events stay queued with their ids and the next flush delivers them', async () => {
  let down = true;
  const { c, errors } = await setup((request) => (down ? { status: 503 } : acceptAll(request)), { maxRetries: 2 });
  const failed = await c.flush();

  expect(ingest.requests).toHaveLength(3); // first attempt + 2 retries
  expect(failed.accepted).toBe(0);
  expect(failed.retained).toHaveLength(2);
  expect(errors.map((e) => [e.code, e.retriable, e.status])).toEqual([['retries_exhausted', true, 503]]);
  expect(c.stats()).toMatchObject({ queued: 2, inFlight: 0 });

  down = false;
  const recovered = await c.flush();
  expect(recovered.accepted).toBe(2);
  const ids = ingest.eventIds();
  expect(new Set(ids).size).toBe(2); // eight sends of the same two events
  expect(ids.slice(-2)).toEqual(failed.retained.map((e) => e.event_id));
});

test('events tracked while a batch is being retried go out after it, in a later request', async () => {
  const { c } = await setup(failFirst(2, { status: 503 }));
  const flushing = c.flush();
  // Once a request is seen the flush has taken its events, so this one must wait for the next flush.
  await waitFor(() => ingest.requests.length >= 1);
  c.track({ type: 'tag.viewed', tag_id: 3 });
  await flushing;
  await c.flush();

  expect(ingest.requests.map((r) => r.body.events.map((e) => e.type))).toEqual([
    ['movie.viewed', 'actor.viewed'],
    ['movie.viewed', 'actor.viewed'],
    ['movie.viewed', 'actor.viewed'],
    ['tag.viewed'],
  ]);
});
