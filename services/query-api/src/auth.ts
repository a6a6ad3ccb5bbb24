import { createHash, timingSafeEqual } from 'node:crypto';
import { TallyError } from '@tally/runtime';

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * Admin tokens are compared as SHA-256 digests with timingSafeEqual, against every configured token
 * every time, so neither a token's length nor which one matched shows in the response time.
 */
export class AdminTokens {
  private readonly hashes: Buffer[];

  constructor(tokens: readonly string[]) {
    this.hashes = tokens.map(digest);
  }

  /**
   * Throws a 401 that says what is wrong with the request, never what the tokens are. Returns the
   * token's public id (first 12 hex digits of its SHA-256), for audit rows.
   */
  check(authorization: string | string[] | undefined): string {
    if (typeof authorization !== 'string' || !/^bearer\s+\S/i.test(authorization)) {
      throw new TallyError('AUTH_MISSING_TOKEN', 'missing admin token: send "Authorization: Bearer <token>"', { httpStatus: 401 });
    }
    const h = digest(authorization.replace(/^bearer\s+/i, '').trim());
    let ok = false;
    for (const known of this.hashes) if (timingSafeEqual(known, h)) ok = true;
    if (!ok) throw new TallyError('AUTH_UNKNOWN_TOKEN', 'unknown admin token', { httpStatus: 401 });
    return h.toString('hex').slice(0, 12);
  }
}
