import fc from 'fast-check';
import { eventDefinition, validateEvent } from '@tally/events';
import { clientEvents, testApp } from './test-support';

// Property: whatever arrives, the API answers with a documented 2xx/4xx status (never 5xx, never a
// crash), and every event it hands to Kafka is valid for its schema and the domain rules.
const RUNS = 10_000;
const samples = clientEvents();
const anyValue = fc.oneof(
  fc.string(), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.constant(undefined),
  fc.array(fc.integer(), { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 3 }),
  fc.constantFrom(-1, 0, 2 ** 53, 1e300, '2026-11-26T12:00:00Z', '9999-01-01T00:00:00Z', '', 'x'.repeat(600), '<script>', "' OR 1=1 --"),
);

// A valid event with some fields removed, replaced or added: near misses are the interesting inputs.
const mutatedEvent = fc
  .tuple(fc.constantFrom(...samples), fc.array(fc.tuple(fc.constantFrom('drop', 'set', 'add'), fc.nat(), anyValue), { maxLength: 4 }))
  .map(([base, edits]) => {
    const e: Record<string, unknown> = { ...base };
    for (const [op, n, v] of edits) {
      const keys = Object.keys(e);
      const k = op === 'add' ? `f${n % 5}` : keys[n % keys.length]!;
      if (op === 'drop') delete e[k];
      else e[k] = v;
    }
    return e;
  });

const body = fc.oneof(
  { weight: 4, arbitrary: mutatedEvent.map((e) => JSON.stringify(e)) },
  { weight: 3, arbitrary: fc.array(fc.oneof(mutatedEvent, anyValue), { maxLength: 6 }).map((events) => JSON.stringify({ events })) },
  { weight: 1, arbitrary: fc.json() },
  { weight: 1, arbitrary: fc.string() },
);

const DOCUMENTED = new Set([202, 400, 401, 413, 415, 429]);

it(`answers ${RUNS} random malformed payloads with documented statuses and lets no invalid event through`, async () => {
  const { app, produced } = await testApp({ RATE_LIMIT_MAX: String(RUNS * 10), MAX_EVENTS_PER_REQUEST: '5', BODY_LIMIT_BYTES: '4096' });
  const statuses = new Map<number, number>();
  await fc.assert(
    fc.asyncProperty(body, fc.constantFrom('application/json', 'text/plain', 'application/octet-stream'), async (payload, contentType) => {
      const res = await app.inject({ method: 'POST', url: '/v1/events', headers: { authorization: 'Bearer bk-1', 'content-type': contentType }, payload });
      statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
      if (!DOCUMENTED.has(res.statusCode)) throw new Error(`status ${res.statusCode} for ${payload.slice(0, 200)}: ${res.body}`);
      if (res.statusCode !== 202 && typeof JSON.parse(res.body).error?.code !== 'string') throw new Error(`no error code in ${res.body}`);
    }),
    { numRuns: RUNS },
  );
  const events = produced.flat();
  for (const e of events) {
    expect(validateEvent(e.type, e.payload)).toMatchObject({ ok: true });
    expect(eventDefinition(e.type).avroType.isValid(e.payload)).toBe(true);
  }
  // The generator must reach both outcomes, or the property proves little.
  expect(statuses.get(202) ?? 0).toBeGreaterThan(500);
  expect(statuses.get(400) ?? 0).toBeGreaterThan(500);
}, 120_000);
