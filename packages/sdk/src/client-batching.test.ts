import { TallyClient, type TallyClientOptions } from './client';
import { startFakeIngest, waitFor, type FakeIngest } from './testing/fake-ingest';

let ingest: FakeIngest;
const clients: TallyClient[] = [];

function client(options: Partial<TallyClientOptions> = {}): TallyClient {
  const c = new TallyClient({ endpoint: ingest.url, key: 'srv_test', flushIntervalMs: 60_000, ...options });
  clients.push(c);
  return c;
}

const view = (jav_id: number) => ({ type: 'movie.viewed' as const, jav_id });
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

beforeEach(async () => {
  ingest = await startFakeIngest();
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await ingest.close();
});

test('track assigns a v4 event_id and an ISO occurred_at, keeps given ones, and sends them with the key', async () => {
  const c = client();
  c.track(view(1));
  c.track({ type: 'movie.rated', jav_id: 2, rating: 5, event_id: '9b2f4c1e-7a43-4d0e-9c55-0d6a1b2c3d4e', occurred_at: 1_700_000_000_000 });
  const result = await c.flush();

  expect(result).toEqual({ accepted: 2, rejected: [], retained: [], dropped: 0 });
  const [request] = ingest.requests;
  expect(request?.headers.authorization).toBe('Bearer srv_test');
  expect(request?.headers['content-type']).toBe('application/json');
  const [first, second] = request?.body.events ?? [];
  expect(first?.event_id).toMatch(UUID_V4);
  expect(new Date(String(first?.occurred_at)).toISOString()).toBe(first?.occurred_at);
  expect(second).toMatchObject({ event_id: '9b2f4c1e-7a43-4d0e-9c55-0d6a1b2c3d4e', occurred_at: 1_700_000_000_000, rating: 5 });
  expect(typeof second?.sent_at).toBe('string');
});

test('reaching batchSize sends without waiting for flush, and flush splits the rest into batches of at most batchSize', async () => {
  const c = client({ batchSize: 2 });
  for (let id = 1; id <= 5; id++) c.track(view(id));
  await waitFor(() => ingest.requests.length >= 1);
  await c.flush();

  expect(ingest.requests.map((r) => r.body.events.length)).toEqual([2, 2, 1]);
  expect(ingest.requests.flatMap((r) => r.body.events.map((e) => e.jav_id))).toEqual([1, 2, 3, 4, 5]);
});

test('flush sends a large backlog in batches of at most batchSize', async () => {
  const c = client({ batchSize: 100 });
  // All 250 are queued synchronously, before the flush triggered at 100 starts, so one drain takes them all.
  for (let id = 1; id <= 250; id++) c.track(view(id));
  await c.flush();
  expect(ingest.requests.map((r) => r.body.events.length)).toEqual([100, 100, 50]);
  expect(ingest.eventIds()).toHaveLength(250);
  expect(new Set(ingest.eventIds()).size).toBe(250);
});

test('the interval flushes a partial batch on its own', async () => {
  const c = client({ batchSize: 100, flushIntervalMs: 30 });
  c.track(view(1));
  c.track(view(2));
  await waitFor(() => c.stats().accepted === 2);
  expect(ingest.requests.map((r) => r.body.events.map((e) => e.jav_id))).toEqual([[1, 2]]);
  expect(c.stats().queued).toBe(0);
});

test('the interval timer does not keep the process alive', () => {
  const before = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  const c = client({ flushIntervalMs: 10 });
  const after = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  expect(c).toBeInstanceOf(TallyClient);
  expect(after).toBe(before);
});

test('a full queue rejects the newest events, counts them, and still sends the ones it kept', async () => {
  const c = client({ maxQueue: 3, batchSize: 100 });
  const taken = [1, 2, 3, 4, 5].map((id) => c.track(view(id)));
  expect(taken).toEqual([true, true, true, false, false]);
  expect(c.stats()).toMatchObject({ queued: 3, dropped: 2 });

  const result = await c.flush();
  expect(result).toMatchObject({ accepted: 3, dropped: 2 });
  expect(ingest.requests[0]?.body.events.map((e) => e.jav_id)).toEqual([1, 2, 3]);
  // The count is per flush: the next one starts from zero, the total stays in stats().
  expect((await c.flush()).dropped).toBe(0);
  expect(c.stats().dropped).toBe(2);
});

test('gzip sends a gzip body with Content-Encoding that decompresses to the events', async () => {
  const c = client({ gzip: true });
  c.track({ type: 'search.performed', query: 'é'.repeat(300), filters: { year: '2024' }, entity_type: 'movie', result_count: 7 });
  await c.flush();

  const [request] = ingest.requests;
  expect(request?.headers['content-encoding']).toBe('gzip');
  expect(request?.raw.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b])); // gzip magic number
  expect(request?.raw.length).toBeLessThan(300); // 300 × 'é' is 600 bytes of JSON before compression
  expect(request?.body.events[0]).toMatchObject({ query: 'é'.repeat(300), filters: { year: '2024' } });
});

test('close() flushes what is queued, stops the timer and refuses later events', async () => {
  const c = client({ flushIntervalMs: 20 });
  c.track(view(1));
  c.track(view(2));
  const result = await c.close();
  expect(result.accepted).toBe(2);
  expect(ingest.eventIds()).toHaveLength(2);

  expect(c.track(view(3))).toBe(false);
  await new Promise((resolve) => setTimeout(resolve, 80)); // four intervals: nothing may be sent
  expect(ingest.requests).toHaveLength(1);
  expect(c.stats()).toMatchObject({ queued: 0, dropped: 1 });
});

test('a 202 with some invalid events reports them by index and does not re-send anything', async () => {
  await ingest.close();
  ingest = await startFakeIngest((request) => ({
    status: 202,
    body: {
      accepted: 1,
      rejected: 1,
      events: [{ index: 0, event_id: request.body.events[0]?.event_id }],
      errors: [{ index: 1, field: 'rating', reason: 'must be an integer from 1 to 5' }],
    },
  }));
  const errors: unknown[] = [];
  const c = client({ onError: (e) => errors.push(e) });
  c.track(view(1));
  c.track({ type: 'movie.rated', jav_id: 1, rating: 9 });
  const result = await c.flush();

  expect(result.accepted).toBe(1);
  expect(result.rejected).toEqual([
    {
      event: expect.objectContaining({ type: 'movie.rated', rating: 9 }),
      status: 202,
      code: 'events_rejected',
      errors: [{ field: 'rating', reason: 'must be an integer from 1 to 5' }],
    },
  ]);
  expect(errors).toEqual([expect.objectContaining({ code: 'events_rejected', retriable: false, status: 202 })]);
  expect(ingest.requests).toHaveLength(1);
});
