import fc from 'fast-check';
import { allowedEvent, forbiddenEvent, type IngestDocument } from '../../services/ingest-api/test/openapi-cases';
import { isolatedEnvironment, type Isolated } from '../event-logger/harness';
import type { ServiceProcess } from '../helpers/process';
import { startIngest, testPort } from '../helpers/services';

// The document-versus-server property of services/ingest-api/src/openapi.test.ts, smaller, against
// the real process with Kafka and the registry behind it: what the served document allows is
// accepted whole, one documented constraint broken is refused naming its field, unserved methods 405.
const RUNS = 60;
const keys = { browser: 'bk-test', server: 'sk-test' } as const;

let iso: Isolated | undefined;
let ingest: { proc: ServiceProcess; url: string } | undefined;
let doc: IngestDocument;
beforeAll(async () => {
  iso = await isolatedEnvironment();
  ingest = await startIngest({
    PORT: String(testPort(25900)),
    TOPIC_PREFIX: iso.prefix,
    RATE_LIMIT_MAX: '1000000',
    PRODUCE_TIMEOUT: '60s',
  });
  doc = (await (await fetch(`${ingest.url}/docs/json`)).json()) as IngestDocument;
}, 120_000);
afterAll(async () => {
  await ingest?.proc.kill();
  await iso?.cleanup();
}, 60_000);

async function post(keyKind: keyof typeof keys, body: unknown) {
  const res = await fetch(`${ingest!.url}/v1/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${keys[keyKind]}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return {
    status: res.status,
    body: (await res.json()) as { accepted?: number; errors?: { index: number; field: string }[]; events?: { index: number }[] },
  };
}

it.each(['server', 'browser'] as const)(
  'with a %s key, accepts what the document allows and refuses what it forbids, naming the field',
  async (keyKind) => {
    // The server's received_at comes later than this clock, which only loosens the x-tally-time bounds.
    const opts = { receivedAt: Date.now(), keyKind };
    await fc.assert(
      fc.asyncProperty(fc.array(allowedEvent(doc, opts), { minLength: 1, maxLength: 5 }), async (events) => {
        const res = await post(keyKind, { events });
        expect(res).toMatchObject({ status: 202, body: { accepted: events.length, errors: [] } });
      }),
      { numRuns: RUNS },
    );
    await fc.assert(
      fc.asyncProperty(forbiddenEvent(doc, opts), async ({ event, violation }) => {
        const res = await post(keyKind, event);
        const named = (res.body.errors ?? []).map((e) => e.field).some((f) => f === violation.field || f.startsWith(`${violation.field}.`));
        expect({ keyword: violation.keyword, field: violation.field, status: res.status, named }).toEqual({
          keyword: violation.keyword,
          field: violation.field,
          status: 400,
          named: true,
        });
      }),
      { numRuns: RUNS },
    );
  },
  120_000,
);

it('answers 405 with Allow for a method the path does not serve, 404 for an unknown path', async () => {
  const get = await fetch(`${ingest!.url}/v1/events`);
  expect([get.status, get.headers.get('allow')]).toEqual([405, 'POST, OPTIONS']);
  expect((await fetch(`${ingest!.url}/v1/nothing`)).status).toBe(404);
});
