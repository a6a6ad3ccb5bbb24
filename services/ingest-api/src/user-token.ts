import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Proof, signed by the web app's back end, that a browser speaks for a signed-in user.
 *
 * A browser key is public (it is in every page), so a `user_id` sent with it is only a claim: anyone
 * could write another user's history and recommendations. The app renders a short-lived token into
 * the page instead: `v1.<user_id>.<expires>.<sig>`, where `expires` is unix seconds and `sig` is the
 * unpadded base64url HMAC-SHA256, keyed with a secret the app and the ingest API share, of
 * `v1.<user_id>.<expires>`. The PHP package signs it (clients/php); the vectors in
 * clients/php/tests/fixtures/user-token-vectors.json hold both sides to the same bytes.
 */
export type TokenProblem = 'missing' | 'unchecked' | 'malformed' | 'signature' | 'expired' | 'too_long' | 'other_user';
export type TokenCheck = { ok: true; userId: number } | { ok: false; problem: TokenProblem; reason: string };

/** The token's shape (also the OpenAPI document's pattern): a 43-character signature is 32 bytes. */
export const USER_TOKEN_PATTERN = '^v1\\.([1-9][0-9]{0,15})\\.([0-9]{1,12})\\.([A-Za-z0-9_-]{43})$';
const FORMAT = new RegExp(USER_TOKEN_PATTERN);

function signature(secret: string, userId: number, expires: number): Buffer {
  return createHmac('sha256', secret).update(`v1.${userId}.${expires}`).digest();
}

/** The token the app's back end renders for `userId`, valid until `expires` (unix seconds). */
export function signUserToken(secret: string, userId: number, expires: number): string {
  return `v1.${userId}.${expires}.${signature(secret, userId, expires).toString('base64url')}`;
}

export class UserTokens {
  /** @param secrets every secret a valid token may be signed with (more than one while rotating). */
  constructor(
    private readonly secrets: readonly string[],
    private readonly maxTtlMs: number,
  ) {}

  /** Whether `token` proves a user at `nowMs`; the reason says what is wrong, never a secret. */
  check(token: string | undefined, nowMs: number): TokenCheck {
    if (token === undefined) return { ok: false, problem: 'missing', reason: 'no user_token was sent' };
    if (this.secrets.length === 0)
      return { ok: false, problem: 'unchecked', reason: 'this ingest API has no USER_TOKEN_SECRETS, so it cannot check a user_token' };
    const m = FORMAT.exec(token);
    if (!m) return { ok: false, problem: 'malformed', reason: 'user_token is malformed (expected v1.<user_id>.<expires>.<signature>)' };
    const userId = Number(m[1]);
    const expiresMs = Number(m[2]) * 1000;
    if (!Number.isSafeInteger(userId)) return { ok: false, problem: 'malformed', reason: 'user_token is malformed (user id out of range)' };
    const given = Buffer.from(m[3]!, 'base64url');
    // Every secret is tried every time, so the timing does not tell which one (if any) matched.
    let valid = false;
    for (const s of this.secrets) if (given.length === 32 && timingSafeEqual(given, signature(s, userId, Number(m[2])))) valid = true;
    if (!valid) return { ok: false, problem: 'signature', reason: 'user_token has an invalid signature' };
    if (expiresMs <= nowMs) return { ok: false, problem: 'expired', reason: 'user_token has expired' };
    if (expiresMs > nowMs + this.maxTtlMs)
      return {
        ok: false,
        problem: 'too_long',
        reason: `user_token expires more than ${Math.round(this.maxTtlMs / 3_600_000)} h ahead (USER_TOKEN_MAX_TTL)`,
      };
    return { ok: true, userId };
  }
}
