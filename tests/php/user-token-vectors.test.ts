// The user-token vectors that clients/php signs byte for byte (its PHPUnit suite reads the same file),
// re-derived here with Node's crypto, the implementation the ingest API verifies with. A vector that
// drifted in either language fails one of the two suites.
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

interface Vector {
  secret: string;
  user_id: number;
  expires: number;
  token: string;
}

const FILE = resolve(__dirname, '../../clients/php/tests/fixtures/user-token-vectors.json');
const vectors = JSON.parse(readFileSync(FILE, 'utf8')) as Vector[];

test('the shared fixture holds the known vector (test-secret, user 42, expires 2000000000)', () => {
  expect(vectors).toContainEqual({
    secret: 'test-secret',
    user_id: 42,
    expires: 2000000000,
    token: 'v1.42.2000000000.r4GY2LmeKC19CzrvoXKl4R-jnDiA9ravp10Ac-UruY4',
  });
});

test.each(vectors.map((v) => [v.token, v] as const))('%s is v1.<user_id>.<expires>.<base64url HMAC-SHA256, no padding>', (_token, v) => {
  const message = `v1.${v.user_id}.${v.expires}`;
  const sig = createHmac('sha256', Buffer.from(v.secret, 'utf8')).update(message, 'ascii').digest('base64url');
  expect(v.token).toBe(`${message}.${sig}`);
  expect(sig).toMatch(/^[A-Za-z0-9_-]{43}$/);
});
