import { createHash } from 'node:crypto';
import { isIP } from 'node:net';

/** Whom to forget: a signed-in user by id, or a guest by the ip address their events carry. */
export type Subject = { kind: 'user'; userId: number } | { kind: 'ip'; ip: string };

/** What every event carries about its sender (the envelope's fields). */
export interface Sender {
  user_id: number | null;
  ip: string;
}

/**
 * The tombstone's key: SHA-256 of `user:<id>` or `ip:<address>`. A user's events are theirs by
 * user_id; a guest's (user_id null) by ip. Addresses compare in lower case (IPv6 hex digits).
 */
export function subjectHash(s: Subject): Buffer {
  return createHash('sha256')
    .update(s.kind === 'user' ? `user:${s.userId}` : `ip:${s.ip.toLowerCase()}`)
    .digest();
}

/** The subject an event is about. */
export function subjectOf(e: Sender): Subject {
  return e.user_id !== null ? { kind: 'user', userId: e.user_id } : { kind: 'ip', ip: e.ip };
}

/** `--user 42` or `--ip 203.0.113.7` (exactly one) → the subject; the error names the field and the reason. */
export function parseSubject(input: { user?: unknown; ip?: unknown }): Subject {
  const hasUser = input.user !== undefined && input.user !== null;
  const hasIp = input.ip !== undefined && input.ip !== null;
  if (hasUser === hasIp) throw new SubjectError('(subject)', 'give exactly one of a user id or an ip address');
  if (hasUser) {
    const n = typeof input.user === 'string' && /^\d+$/.test(input.user) ? Number(input.user) : input.user;
    if (!Number.isSafeInteger(n) || (n as number) <= 0) throw new SubjectError('user', 'must be a positive integer (users.id)');
    return { kind: 'user', userId: n as number };
  }
  if (typeof input.ip !== 'string' || isIP(input.ip) === 0) throw new SubjectError('ip', 'must be an IPv4 or IPv6 address');
  return { kind: 'ip', ip: input.ip };
}

export class SubjectError extends Error {
  readonly code = 'SUBJECT_INVALID';
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(field === '(subject)' ? reason : `${field} ${reason}`);
    this.name = 'SubjectError';
  }
}

/** For reports and logs: the subject without its value (`user`/`ip`), and the value only where asked. */
export function describeSubject(s: Subject): string {
  return s.kind === 'user' ? `user ${s.userId}` : `guest ip ${s.ip}`;
}
