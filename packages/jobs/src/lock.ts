import { createHash } from 'node:crypto';
import type { Knex } from 'knex';

/** A held cross-instance lock; release is idempotent. */
export interface HeldLock {
  readonly name: string;
  release(): Promise<void>;
}

/**
 * Lock name for a job in one database: tests (and environments) sharing a MySQL server but not a
 * database must not block each other. GET_LOCK names are limited to 64 characters.
 */
export function lockName(database: string, job: string): string {
  const name = `tally:${database}:${job}`;
  return name.length <= 64 ? name : `tally:${createHash('sha1').update(name).digest('hex')}`;
}

/**
 * MySQL named lock (GET_LOCK) on a connection held for the whole run. Chosen over a Redis lease
 * because the server drops the lock the moment the holder's connection closes — a SIGKILLed run
 * frees it at once, and a slow run can never outlive a TTL and overlap the next one.
 * Returns undefined when another session holds it (no waiting: a scheduled run that finds the
 * previous one still going simply skips).
 */
export async function tryJobLock(db: Knex, job: string): Promise<HeldLock | undefined> {
  const conn: unknown = await db.client.acquireConnection();
  let held = false;
  try {
    const [[dbRow]] = (await db.raw('SELECT DATABASE() AS db').connection(conn)) as [[{ db: string | null }]];
    const name = lockName(dbRow.db ?? '', job);
    const [[row]] = (await db.raw('SELECT GET_LOCK(?, 0) AS got', [name]).connection(conn)) as [[{ got: number | null }]];
    if (Number(row.got) !== 1) return undefined;
    held = true;
    let released = false;
    return {
      name,
      release: async () => {
        if (released) return;
        released = true;
        try {
          await db.raw('SELECT RELEASE_LOCK(?)', [name]).connection(conn);
        } finally {
          await db.client.releaseConnection(conn);
        }
      },
    };
  } finally {
    if (!held) await db.client.releaseConnection(conn);
  }
}
