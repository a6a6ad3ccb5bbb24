import fc from 'fast-check';
import { eventDefinition, validateEvent } from '@tally/events';
import { answerProblems, fuzzRequest, type FuzzLimits } from '../test/fuzz-requests';
import { testApp } from '../test/test-support';

// Property: whatever arrives, the API answers with a documented 2xx/4xx status (never 5xx, never a
// crash), every refusal names its field (per event) or its code and limit (per request), valid events
// in mixed batches are accepted, and every event it hands to Kafka is valid for its schema and the
// domain rules. The same generator drives the real process at scale in tests/security/ingest-fuzz.test.ts.
const RUNS = 10_000;
const limits: FuzzLimits = { keys: { browser: 'bk-1', server: 'sk-1' }, maxEvents: 5, bodyLimit: 8_192 };

it(`answers ${RUNS} random requests as documented and lets no invalid event through`, async () => {
  const { app, produced } = await testApp({
    RATE_LIMIT_MAX: String(RUNS * 10),
    MAX_EVENTS_PER_REQUEST: String(limits.maxEvents),
    BODY_LIMIT_BYTES: String(limits.bodyLimit),
  });
  const statuses = new Map<number, number>();
  let accepted = 0;
  await fc.assert(
    fc.asyncProperty(fuzzRequest(limits), async (req) => {
      const res = await app.inject({ method: 'POST', url: req.url, headers: req.headers, payload: req.body });
      statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
      const answer = JSON.parse(res.body);
      const problems = answerProblems(req, res.statusCode, answer, limits);
      if (problems.length > 0)
        throw new Error(
          `${req.kind} ${req.body.subarray(0, 300).toString()} → ${res.statusCode} ${res.body.slice(0, 500)}: ${problems.join('; ')}`,
        );
      accepted += answer.accepted ?? 0;
    }),
    { numRuns: RUNS },
  );
  const events = produced.flat();
  expect(events).toHaveLength(accepted);
  for (const e of events) {
    expect(validateEvent(e.type, e.payload)).toMatchObject({ ok: true });
    expect(eventDefinition(e.type).avroType.isValid(e.payload)).toBe(true);
  }
  // The generator must reach every outcome, or the property proves little.
  expect(statuses.get(202) ?? 0).toBeGreaterThan(RUNS / 4);
  expect(statuses.get(400) ?? 0).toBeGreaterThan(RUNS / 50);
  expect(statuses.get(413) ?? 0).toBeGreaterThan(RUNS / 100);
  expect(statuses.get(415) ?? 0).toBeGreaterThan(RUNS / 100);
}, 180_000);
