import { createHash, timingSafeEqual } from 'node:crypto';
import { TallyError } from '@tally/runtime';

export type KeyKind = 'browser' | 'server';

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * Write keys are compared as SHA-256 digests with timingSafeEqual, and every configured key is
 * compared every time, so neither the length nor the position of a match leaks through timing.
 */
export class KeyRing {
  private readonly keys: { kind: KeyKind; hash: Buffer }[];

  constructor(browserKeys: readonly string[], serverKeys: readonly string[]) {
    this.keys = [
      ...browserKeys.map((k) => ({ kind: 'browser' as const, hash: digest(k) })),
      ...serverKeys.map((k) => ({ kind: 'server' as const, hash: digest(k) })),
    ];
  }

  /** The kind of the presented key; throws a 401 that says what is wrong, never which keys exist. */
  resolve(presented: string | undefined): KeyKind {
    if (presented === undefined || presented === '') {
      throw new TallyError('AUTH_MISSING_KEY', 'missing write key: send "Authorization: Bearer <key>", "X-Tally-Key: <key>" or ?key=<key>', { httpStatus: 401 });
    }
    const found = this.kindOf(presented);
    if (!found) throw new TallyError('AUTH_UNKNOWN_KEY', 'unknown write key', { httpStatus: 401 });
    return found;
  }

  /** The kind of a configured key; undefined for a missing or unknown one. */
  kindOf(presented: string | undefined): KeyKind | undefined {
    if (presented === undefined || presented === '') return undefined;
    const h = digest(presented);
    let found: KeyKind | undefined;
    for (const k of this.keys) if (timingSafeEqual(k.hash, h)) found = k.kind;
    return found;
  }
}

/** Header first (it does not end up in access logs), then the query string for sendBeacon. */
export function presentedKey(headers: Record<string, string | string[] | undefined>, query: unknown): string | undefined {
  const auth = headers.authorization;
  if (typeof auth === 'string' && /^bearer /i.test(auth)) return auth.slice(7).trim();
  const x = headers['x-tally-key'];
  if (typeof x === 'string') return x.trim();
  if (query && typeof query === 'object' && typeof (query as { key?: unknown }).key === 'string') return (query as { key: string }).key;
  return undefined;
}
