import type { Knex } from 'knex';
import type { BatchOutcome, DecodedMessage, PartitionBatch } from '@tally/kafka';
import type { ServiceMetrics } from '@tally/runtime';
import { foldHistory, type HistoryDelta, type HistoryEvent, type HistoryKind } from './handler';

/**
 * Lock waits are bounded so that a blocked MySQL becomes a retriable error (the runner's backoff
 * heartbeats) instead of a hang: 4 statements × 5 s stays under the group's 30 s session timeout, so
 * the partition is not taken away while we wait. The server defaults are 50 s (row) and 1 year (LOCK TABLES).
 */
const LOCK_WAIT_SECONDS = 5;

// Assignments of ON DUPLICATE KEY UPDATE run left to right and later ones see earlier results (MySQL 8
// and MariaDB alike), so ip and user_agent are decided BEFORE last_viewed_at is overwritten. VALUES()
// rather than the `AS new` row alias: MariaDB has no alias, MySQL 8 keeps VALUES() (deprecated, working).
// NULL-safe LEAST/GREATEST: a download-only delta carries NULL view times and must not erase stored ones.
// Ties at the same millisecond go to the delta applied later (mergeDeltas in handler.ts is this, in JS).
const NEWER_VIEW = 'VALUES(last_viewed_at) IS NOT NULL AND (last_viewed_at IS NULL OR VALUES(last_viewed_at) >= last_viewed_at)';
const UPSERT_TAIL = `
ON DUPLICATE KEY UPDATE
  ip = IF(${NEWER_VIEW}, VALUES(ip), ip),
  user_agent = IF(${NEWER_VIEW}, VALUES(user_agent), user_agent),
  view_count = view_count + VALUES(view_count),
  first_viewed_at = COALESCE(LEAST(first_viewed_at, VALUES(first_viewed_at)), first_viewed_at, VALUES(first_viewed_at)),
  last_viewed_at = COALESCE(GREATEST(last_viewed_at, VALUES(last_viewed_at)), last_viewed_at, VALUES(last_viewed_at)),
  downloaded = GREATEST(downloaded, VALUES(downloaded)),
  download_count = download_count + VALUES(download_count),
  last_downloaded_at = COALESCE(GREATEST(last_downloaded_at, VALUES(last_downloaded_at)), last_downloaded_at, VALUES(last_downloaded_at))`;
const UPSERT_HEAD = 'INSERT INTO user_jav_history (user_id, jav_id, view_count, first_viewed_at, last_viewed_at, ip, user_agent, downloaded, download_count, last_downloaded_at) VALUES ';

const date = (ms: number | null) => (ms === null ? null : new Date(ms));
const placeholders = (rows: number, cols: number) => Array.from({ length: rows }, () => `(${Array(cols).fill('?').join(', ')})`).join(', ');

interface ChunkResult {
  skippedByOffset: number;
  skippedAsApplied: number;
  duplicatesInChunk: number;
  guests: number;
  rows: number;
}

/**
 * Applies partition chunks to user_jav_history exactly once (shared/notes/exactly-once.md, "history"):
 * one transaction per chunk holds the upserts, the applied event ids and the partition's progress.
 * The Kafka commit comes after (the runner's job), so a crash replays a chunk whose offsets are
 * already in consumer_progress and it is skipped.
 *
 * history_applied_events grows by one row per applied logged-in view or download, guests excluded:
 * ≈ 170 bytes per row on disk, data + applied_at index (measured: 150k rows = 25 MB), so 10 M events
 * ≈ 1.7 GB. It only has to cover the window in which a client may resend an event; nothing prunes it
 * yet (README.md, "Growth").
 */
export class HistorySink {
  private readonly rowsUpserted;
  private readonly skipped;

  constructor(
    private readonly db: Knex,
    private readonly groupId: string,
    private readonly kindOf: (topic: string) => HistoryKind,
    metrics: ServiceMetrics,
  ) {
    this.rowsUpserted = metrics.counter('rows_upserted_total', 'user_jav_history rows inserted or updated (one per user and movie per chunk)', ['topic']);
    this.skipped = metrics.counter('events_skipped_total', 'Events without effect: guest, or already applied (offset ≤ progress, or event_id seen)', ['topic', 'why']);
  }

  async apply(batch: PartitionBatch<HistoryEvent>): Promise<BatchOutcome> {
    let r: ChunkResult;
    try {
      // READ COMMITTED: the event-id lookup then takes no gap locks, which under REPEATABLE READ made
      // chunks of different partitions (random UUIDs, 1,000 a chunk) block each other's inserts.
      r = await this.db.transaction((trx) => this.applyChunk(trx, batch), { isolationLevel: 'read committed' });
    } catch (error) {
      // Any MySQL error (down, lock wait, deadlock, a concurrent owner inserting the same progress row
      // or event id): nothing was committed, so the runner retries the same chunk.
      return { kind: 'retry', error };
    }
    const labels = { topic: batch.topic };
    const again = r.skippedByOffset + r.skippedAsApplied + r.duplicatesInChunk;
    if (again > 0) batch.reportReprocessed(again);
    if (r.skippedByOffset > 0) this.skipped.inc({ ...labels, why: 'offset_applied' }, r.skippedByOffset);
    if (r.skippedAsApplied + r.duplicatesInChunk > 0) this.skipped.inc({ ...labels, why: 'event_applied' }, r.skippedAsApplied + r.duplicatesInChunk);
    if (r.guests > 0) this.skipped.inc({ ...labels, why: 'guest' }, r.guests);
    this.rowsUpserted.inc(labels, r.rows);
    return { kind: 'done' };
  }

  private async applyChunk(trx: Knex.Transaction, batch: PartitionBatch<HistoryEvent>): Promise<ChunkResult> {
    await trx.raw('SET SESSION innodb_lock_wait_timeout = ?, SESSION lock_wait_timeout = ?', [LOCK_WAIT_SECONDS, LOCK_WAIT_SECONDS]);
    const stored = await this.lockProgress(trx, batch.topic, batch.partition);
    const fresh = batch.messages.filter((m) => BigInt(m.offset) > stored);
    const result: ChunkResult = { skippedByOffset: batch.messages.length - fresh.length, skippedAsApplied: 0, duplicatesInChunk: 0, guests: 0, rows: 0 };
    if (fresh.length === 0) return result;

    const notApplied = await this.dropAppliedEvents(trx, fresh);
    result.skippedAsApplied = fresh.length - notApplied.length;
    const fold = foldHistory(this.kindOf(batch.topic), notApplied.map((m) => m.value));
    result.duplicatesInChunk = fold.duplicates;
    result.guests = fold.guests;
    result.rows = fold.deltas.length;

    if (fold.appliedIds.length > 0) {
      // A plain INSERT, not IGNORE: a duplicate here means another transaction applied the same event
      // since our lookup, so this one must roll back and retry (and then skip it).
      const ids = [...fold.appliedIds].sort();
      await trx.raw(`INSERT INTO history_applied_events (event_id) VALUES ${placeholders(ids.length, 1)}`, ids);
    }
    if (fold.deltas.length > 0) await this.upsert(trx, fold.deltas);
    await trx.raw('UPDATE consumer_progress SET `offset` = ? WHERE group_id = ? AND topic = ? AND `partition` = ?', [
      fresh[fresh.length - 1]!.offset, this.groupId, batch.topic, batch.partition,
    ]);
    return result;
  }

  /**
   * The last applied offset of the partition, row-locked until commit: a member that lost the
   * partition in a rebalance but is still writing (a zombie) waits here and then sees the new
   * owner's progress, so the same offsets are never applied twice. -1 when nothing was applied yet.
   */
  private async lockProgress(trx: Knex.Transaction, topic: string, partition: number): Promise<bigint> {
    const select = 'SELECT `offset` FROM consumer_progress WHERE group_id = ? AND topic = ? AND `partition` = ? FOR UPDATE';
    const [rows] = (await trx.raw(select, [this.groupId, topic, partition])) as [{ offset: number | string }[]];
    if (rows[0]) return BigInt(String(rows[0].offset));
    // Two first-time owners racing: the loser's INSERT fails on the primary key and its chunk retries.
    await trx.raw('INSERT INTO consumer_progress (group_id, topic, `partition`, `offset`) VALUES (?, ?, ?, -1)', [this.groupId, topic, partition]);
    return -1n;
  }

  /** Drops events whose event_id is already applied: a client retry of the same event at another offset. */
  private async dropAppliedEvents(trx: Knex.Transaction, messages: DecodedMessage<HistoryEvent>[]): Promise<DecodedMessage<HistoryEvent>[]> {
    const ids = [...new Set(messages.filter((m) => m.value.user_id !== null).map((m) => m.value.event_id.toLowerCase()))];
    if (ids.length === 0) return messages;
    const [rows] = (await trx.raw(`SELECT event_id FROM history_applied_events WHERE event_id IN (${ids.map(() => '?').join(', ')})`, ids)) as [
      { event_id: string }[],
    ];
    if (rows.length === 0) return messages;
    const applied = new Set(rows.map((r) => r.event_id.toLowerCase()));
    return messages.filter((m) => !applied.has(m.value.event_id.toLowerCase()));
  }

  /** One multi-row statement per chunk, rows in key order (see HistoryFold.deltas). */
  private async upsert(trx: Knex.Transaction, deltas: HistoryDelta[]): Promise<void> {
    const values = deltas.flatMap((d) => [
      d.userId, d.javId, d.viewCount, date(d.firstViewedAt), date(d.lastViewedAt), d.ip, d.userAgent,
      d.downloadCount > 0 ? 1 : 0, d.downloadCount, date(d.lastDownloadedAt),
    ]);
    await trx.raw(UPSERT_HEAD + placeholders(deltas.length, 10) + UPSERT_TAIL, values);
  }
}
