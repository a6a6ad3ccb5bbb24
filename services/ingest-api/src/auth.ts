import { createHash, timingSafeEqual } from 'node:crypto';
import { ConfigError } from '@tally/config';
import { EVENT_TYPES, eventDefinition, type EventType } from '@tally/events';
import { TallyError } from '@tally/runtime';

export type KeyKind = 'browser' | 'server';

/** A configured write key as a request presents it: its kind, what it may send, and a public id. */
export interface WriteKey {
  readonly kind: KeyKind;
  /** First 16 hex digits of the key's SHA-256: names the key in rate-limit buckets and logs without revealing it. */
  readonly id: string;
  readonly allowed: ReadonlySet<EventType>;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** What a kind of key may send when KEY_EVENT_TYPES does not narrow it: browsers never admin events. */
function defaultTypes(kind: KeyKind): EventType[] {
  return EVENT_TYPES.filter((t) => kind === 'server' || !eventDefinition(t).server_only);
}

/** `movie.viewed`, `movie.*` or `*` → the event types it names. */
function typesOf(pattern: string): EventType[] {
  if (pattern === '*') return [...EVENT_TYPES];
  if (pattern.endsWith('.*')) return EVENT_TYPES.filter((t) => t.startsWith(pattern.slice(0, -1)));
  return EVENT_TYPES.filter((t) => t === pattern);
}

/** A key as a config message may show it: enough to find it, not enough to use it. */
const shown = (key: string) => `'${key.slice(0, 4)}…'`;

/**
 * Write keys are compared as SHA-256 digests with timingSafeEqual, and every configured key is
 * compared every time, so neither the length nor the position of a match leaks through timing.
 */
export class KeyRing {
  private readonly keys: (WriteKey & { hash: Buffer })[];

  /**
   * @param eventTypes KEY_EVENT_TYPES: key → patterns. Throws a ConfigError naming the setting for an
   *   unknown key, a pattern that names no event type, or a browser key given an admin event.
   */
  constructor(browserKeys: readonly string[], serverKeys: readonly string[], eventTypes: Readonly<Record<string, unknown>> = {}) {
    const problems: string[] = [];
    const configured = new Map<string, KeyKind>([
      ...browserKeys.map((k) => [k, 'browser'] as const),
      ...serverKeys.map((k) => [k, 'server'] as const),
    ]);
    for (const k of browserKeys) if (serverKeys.includes(k)) problems.push(`key ${shown(k)} is in both BROWSER_KEYS and SERVER_KEYS`);
    const narrowed = new Map<string, Set<EventType>>();
    for (const [key, patterns] of Object.entries(eventTypes)) {
      const kind = configured.get(key);
      if (!kind) {
        problems.push(`key ${shown(key)} is in neither BROWSER_KEYS nor SERVER_KEYS`);
        continue;
      }
      if (!Array.isArray(patterns) || patterns.length === 0 || !patterns.every((p) => typeof p === 'string')) {
        problems.push(`key ${shown(key)}: must be a non-empty list of event types or patterns ("movie.*", "*")`);
        continue;
      }
      const allowed = new Set<EventType>();
      for (const p of patterns as string[]) {
        const types = typesOf(p);
        if (types.length === 0) problems.push(`key ${shown(key)}: '${p}' names no event type (known: ${EVENT_TYPES.join(', ')})`);
        // '*' for a browser key means "all it may send"; naming an admin event outright is a mistake.
        const forbidden = kind === 'browser' && p !== '*' && !p.endsWith('.*') ? types.filter((t) => eventDefinition(t).server_only) : [];
        if (forbidden.length > 0)
          problems.push(`key ${shown(key)} is a browser key and may not send ${forbidden.join(', ')} (admin events need a server key)`);
        for (const t of types) if (kind === 'server' || !eventDefinition(t).server_only) allowed.add(t);
      }
      narrowed.set(key, allowed);
    }
    if (problems.length > 0) throw new ConfigError(problems.map((reason) => ({ variable: 'KEY_EVENT_TYPES', reason })));
    this.keys = [...configured].map(([key, kind]) => ({
      kind,
      id: digest(key).toString('hex').slice(0, 16),
      hash: digest(key),
      allowed: narrowed.get(key) ?? new Set(defaultTypes(kind)),
    }));
  }

  /** The presented key; throws a 401 that says what is wrong, never which keys exist. */
  resolve(presented: string | undefined): WriteKey {
    if (presented === undefined || presented === '') {
      throw new TallyError(
        'AUTH_MISSING_KEY',
        'missing write key: send "Authorization: Bearer <key>", "X-Tally-Key: <key>" or ?key=<key>',
        { httpStatus: 401 },
      );
    }
    const found = this.find(presented);
    if (!found) throw new TallyError('AUTH_UNKNOWN_KEY', 'unknown write key', { httpStatus: 401 });
    return found;
  }

  /** The configured key presented; undefined for a missing or unknown one. */
  find(presented: string | undefined): WriteKey | undefined {
    if (presented === undefined || presented === '') return undefined;
    const h = digest(presented);
    let found: WriteKey | undefined;
    for (const k of this.keys) if (timingSafeEqual(k.hash, h)) found = k;
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
