// Runs the PHP example (examples/laravel/TallyClient.php) with the real `php` binary against a fake
// ingest API, so the example in the docs is known to work rather than only to parse. Needs php-cli
// (Debian: apt-get install php-cli); ext-curl and ext-mbstring are not needed.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { acceptAll, startFakeIngest, type FakeIngest, type Reply, type SeenRequest } from './testing/fake-ingest';

const run = promisify(execFile);
const CLASS_FILE = join(__dirname, '..', 'examples', 'laravel', 'TallyClient.php');
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

let ingest: FakeIngest;
let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tally-php-'));
});
afterEach(async () => {
  await ingest?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Tracks one movie.viewed for a forwarded user through the PHP class; returns what track() returned. */
async function trackWithPhp(reply: (request: SeenRequest, n: number) => Reply) {
  ingest = await startFakeIngest(reply);
  const script = join(dir, 'track.php');
  writeFileSync(
    script,
    `<?php
require ${JSON.stringify(CLASS_FILE)};
$tally = App\\Support\\Tally\\TallyClient::fromConfig(['endpoint' => $argv[1], 'key' => 'srv_key_1', 'max_retries' => 2]);
$result = $tally->track(['type' => 'movie.viewed', 'jav_id' => 42, 'user_id' => 7], '203.0.113.9', 'Mozilla/5.0 (X11)');
echo json_encode($result);
`,
  );
  const { stdout } = await run('php', [script, ingest.url], { timeout: 20_000 });
  return JSON.parse(stdout) as { status: number; body: unknown; attempts: number };
}

test('php -l accepts the example class', async () => {
  const { stdout } = await run('php', ['-l', CLASS_FILE]);
  expect(stdout).toContain('No syntax errors detected');
});

test('posts JSON with the server key and the forwarded ip and user agent, and retries a 503 with the same event id after Retry-After', async () => {
  const result = await trackWithPhp((request, n) => (n === 0 ? { status: 503, headers: { 'retry-after': '1' }, body: { error: { code: 'unavailable', message: 'kafka down' } } } : acceptAll(request)));

  expect(result).toMatchObject({ status: 202, attempts: 2, body: { accepted: 1 } });
  const [first, second] = ingest.requests;
  expect(first?.url).toBe('/v1/events');
  expect(first?.headers['content-type']).toBe('application/json');
  expect(first?.headers.authorization).toBe('Bearer srv_key_1');
  expect(first?.body.events).toEqual([
    expect.objectContaining({ type: 'movie.viewed', jav_id: 42, user_id: 7, ip: '203.0.113.9', user_agent: 'Mozilla/5.0 (X11)' }),
  ]);
  const [a, b] = [first?.body.events[0], second?.body.events[0]];
  expect(String(a?.event_id)).toMatch(UUID_V4);
  expect(b?.event_id).toBe(a?.event_id);
  expect(b?.occurred_at).toBe(a?.occurred_at);
  expect(Date.parse(String(a?.sent_at))).not.toBeNaN();
  expect(second!.at - first!.at).toBeGreaterThanOrEqual(990); // Retry-After: 1
});

test('a 429 is retried; a 400 is returned at once with its field errors', async () => {
  const retried = await trackWithPhp((request, n) => (n === 0 ? { status: 429, headers: { 'retry-after': '0' } } : acceptAll(request)));
  expect(retried).toMatchObject({ status: 202, attempts: 2 });
  await ingest.close();

  const errors = [{ index: 0, field: 'jav_id', reason: 'must be a positive integer' }];
  const refused = await trackWithPhp(() => ({ status: 400, body: { error: { code: 'invalid_events', message: 'no valid event' }, errors } }));
  expect(refused).toEqual({ status: 400, attempts: 1, body: { error: { code: 'invalid_events', message: 'no valid event' }, errors } });
  expect(ingest.requests).toHaveLength(1);
});
