import type { Knex } from 'knex';
import { subjectHash, subjectOf, type Sender, type Subject } from './subjects';

/**
 * The tombstones as a sink sees them: every forgotten subject's hash in memory, reloaded when the
 * table changes. `refresh()` costs one small query at most every `refreshMs` (the table's count and
 * newest id), and nothing at all between; `tally forget` waits longer than that before its second
 * sweep, so a sink has the tombstone before the forget is reported done.
 */
export class ForgottenSet {
  private hashes = new Set<string>();
  private version = '';
  private checkedAt = -Infinity;

  constructor(
    private readonly db: Knex,
    private readonly opts: { refreshMs: number; now?: () => number } = { refreshMs: 1_000 },
  ) {}

  get size(): number {
    return this.hashes.size;
  }

  /** Reloads when the table changed; throws (a MySQL error) when it cannot be read. */
  async refresh(): Promise<void> {
    const now = (this.opts.now ?? Date.now)();
    if (now - this.checkedAt < this.opts.refreshMs) return;
    const [rows] = (await this.db.raw('SELECT COUNT(*) AS n, COALESCE(MAX(id), 0) AS m FROM tally_forgotten')) as [
      { n: number | string; m: number | string }[],
    ];
    const version = `${rows[0]!.n}:${rows[0]!.m}`;
    if (version !== this.version) {
      const [all] = (await this.db.raw('SELECT subject_hash FROM tally_forgotten')) as [{ subject_hash: Buffer }[]];
      this.hashes = new Set(all.map((r) => r.subject_hash.toString('hex')));
      this.version = version;
    }
    this.checkedAt = now;
  }

  hasSubject(s: Subject): boolean {
    return this.hashes.size > 0 && this.hashes.has(subjectHash(s).toString('hex'));
  }

  /** Whether an event's sender was forgotten. Free while nobody is (no hashing). */
  has(e: Sender): boolean {
    return this.hashes.size > 0 && this.hasSubject(subjectOf(e));
  }
}
