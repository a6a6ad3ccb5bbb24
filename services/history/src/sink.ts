import type { Knex } from 'knex';
import type { BatchOutcome, DecodedMessage, PartitionBatch } from '@tally/kafka';
import { classifyStoreError, type ServiceMetrics } from '@tally/runtime';
import { q, type Catalog, type CatalogMapping } from '@tally/catalog';
import { foldHistory, type HistoryDelta, type HistoryKind, type HistoryMessage } from './handler';

/**
 * Lock waits are bounded so that a blocked MySQL becomes a retriable error (the runner's backoff
 * heartbeats) instead of a hang: 4 statements × 5 s stays under the group's 30 s session timeout, so
 * the partition is not taken away while we wait. The server defaults are 50 s (row) and 1 year (LOCK TABLES).
 */
const LOCK_WAIT_SECONDS = 5;

type HistoryColumn = keyof CatalogMapping['history']['columns'];

/**
 * The upsert for the mapped history table: only the columns the mapping names (an app table may lack
 * some), in the app's names. Assignments of ON DUPLICATE KEY UPDATE run left to right and later ones
 * see earlier results (MySQL 8 and MariaDB alike), so ip and user_agent are decided BEFORE
 * last_viewed_at is overwritten. VALUES() rather than the `AS new` row alias: MariaDB has no alias,
 * MySQL 8 keeps VALUES() (deprecated, working). NULL-safe LEAST/GREATEST: a download-only delta
 * carries NULL view times and must not erase stored ones. Ties at the same millisecond go to the
 * delta applied later (mergeDeltas in handler.ts is this, in JS). Without a mapped last-viewed column
 * there is no "latest": ip and user agent then follow the latest applied chunk.
 */
export function historyUpsert(catalog: Catalog): { head: string; tail: string; columns: HistoryColumn[] } {
  const h = catalog.mapping.history;
  const col = (k: HistoryColumn) => h.columns[k];
  const ORDER: HistoryColumn[] = [
    'viewCount',
    'firstViewedAt',
    'lastViewedAt',
    'ip',
    'userAgent',
    'downloaded',
    'downloadCount',
    'lastDownloadedAt',
  ];
  const columns = ORDER.filter((k) => col(k) !== null);
  const c = (k: HistoryColumn) => q(col(k)!);
  const last = col('lastViewedAt') === null ? null : c('lastViewedAt');
  const newerView = last === null ? 'TRUE' : `VALUES(${last}) IS NOT NULL AND (${last} IS NULL OR VALUES(${last}) >= ${last})`;
  const keepOrLater = (k: HistoryColumn, fn: 'LEAST' | 'GREATEST') =>
    `${c(k)} = COALESCE(${fn}(${c(k)}, VALUES(${c(k)})), ${c(k)}, VALUES(${c(k)}))`;
  const SET: Record<HistoryColumn, () => string> = {
    ip: () => `${c('ip')} = IF(${newerView}, VALUES(${c('ip')}), ${c('ip')})`,
    userAgent: () => `${c('userAgent')} = IF(${newerView}, VALUES(${c('userAgent')}), ${c('userAgent')})`,
    viewCount: () => `${c('viewCount')} = ${c('viewCount')} + VALUES(${c('viewCount')})`,
    firstViewedAt: () => keepOrLater('firstViewedAt', 'LEAST'),
    lastViewedAt: () => keepOrLater('lastViewedAt', 'GREATEST'),
    downloaded: () => `${c('downloaded')} = GREATEST(${c('downloaded')}, VALUES(${c('downloaded')}))`,
    downloadCount: () => `${c('downloadCount')} = ${c('downloadCount')} + VALUES(${c('downloadCount')})`,
    lastDownloadedAt: () => keepOrLater('lastDownloadedAt', 'GREATEST'),
  };
  // ip and user agent first: they compare with the stored last-viewed time before it moves.
  const updates = (
    ['ip', 'userAgent', 'viewCount', 'firstViewedAt', 'lastViewedAt', 'downloaded', 'downloadCount', 'lastDownloadedAt'] as HistoryColumn[]
  )
    .filter((k) => col(k) !== null)
    .map((k) => SET[k]());
  // With no column to update the key alone absorbs the row (user_id = user_id is a no-op assignment).
  const tail = `\nON DUPLICATE KEY UPDATE\n  ${updates.length > 0 ? updates.join(',\n  ') : `${q(h.user)} = ${q(h.user)}`}`;
  const head = `INSERT INTO ${catalog.sql('history')} (${[q(h.user), q(h.movie), ...columns.map(c)].join(', ')}) VALUES `;
  return { head, tail, columns };
}

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
 * Applies partition chunks to user_jav_history exactly once (docs/exactly-once.md, "history",
 * invariant I4): one transaction per chunk holds the upserts, the applied event ids and the
 * partition's progress.
 * The Kafka commit comes after (the runner's job), so a crash replays a chunk whose offsets are
 * already in consumer_progress and it is skipped.
 *
 * history_applied_events grows by one row per applied logged-in view or download, guests excluded:
 * ≈ 170 bytes per row on disk, data + applied_at index (measured: 150k rows = 25 MB), so 10 M events
 * ≈ 1.7 GB. The retention service deletes ids applied more than the topics' retention + a margin
 * ago (8 days: no replay reaches them), so it holds about 8 days of applied events.
 */
export class HistorySink {
  private readonly rowsUpserted;
  private readonly statement: ReturnType<typeof historyUpsert>;
  private readonly skipped;

  constructor(
    private readonly db: Knex,
    private readonly groupId: string,
    private readonly kindOf: (topic: string) => HistoryKind,
    metrics: ServiceMetrics,
    catalog: Catalog,
  ) {
    this.statement = historyUpsert(catalog);
    this.rowsUpserted = metrics.counter(
      'history_rows_upserted_total',
      'user_jav_history rows inserted or updated (one per user and movie per chunk)',
      ['topic'],
    );
    this.skipped = metrics.counter(
      'events_skipped_total',
      'Events without effect: guest, or already applied (offset ≤ progress, or event_id seen)',
      ['topic', 'why'],
    );
  }

  async apply(batch: PartitionBatch<HistoryMessage>): Promise<BatchOutcome> {
    let r: ChunkResult;
    try {
      // READ COMMITTED: the event-id lookup then takes no gap locks, which under REPEATABLE READ made
      // chunks of different partitions (random UUIDs, 1,000 a chunk) block each other's inserts.
      r = await this.db.transaction((trx) => this.applyChunk(trx, batch), { isolationLevel: 'read committed' });
    } catch (error) {
      // Any MySQL error (down, lock wait, deadlock, a concurrent owner inserting the same progress row
      // or event id): nothing was committed, so the runner retries the same chunk. A schema error
      // (a mapped column gone) cannot heal by retrying: classified so the service stops with it.
      return { kind: 'retry', error: classifyStoreError(error) };
    }
    const labels = { topic: batch.topic };
    const again = r.skippedByOffset + r.skippedAsApplied + r.duplicatesInChunk;
    if (again > 0) batch.reportReprocessed(again);
    if (r.skippedByOffset > 0) this.skipped.inc({ ...labels, why: 'offset_applied' }, r.skippedByOffset);
    if (r.skippedAsApplied + r.duplicatesInChunk > 0)
      this.skipped.inc({ ...labels, why: 'event_applied' }, r.skippedAsApplied + r.duplicatesInChunk);
    if (r.guests > 0) this.skipped.inc({ ...labels, why: 'guest' }, r.guests);
    this.rowsUpserted.inc(labels, r.rows);
    return { kind: 'done' };
  }

  private async applyChunk(trx: Knex.Transaction, batch: PartitionBatch<HistoryMessage>): Promise<ChunkResult> {
    await trx.raw('SET SESSION innodb_lock_wait_timeout = ?, SESSION lock_wait_timeout = ?', [LOCK_WAIT_SECONDS, LOCK_WAIT_SECONDS]);
    const stored = await this.lockProgress(trx, batch.topic, batch.partition);
    const fresh = batch.messages.filter((m) => BigInt(m.offset) > stored);
    const result: ChunkResult = {
      skippedByOffset: batch.messages.length - fresh.length,
      skippedAsApplied: 0,
      duplicatesInChunk: 0,
      guests: 0,
      rows: 0,
    };
    if (fresh.length === 0) return result;

    const notApplied = await this.dropAppliedEvents(trx, fresh);
    result.skippedAsApplied = fresh.length - notApplied.length;
    const fold = foldHistory(
      this.kindOf(batch.topic),
      notApplied.map((m) => m.value.payload),
    );
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
      fresh[fresh.length - 1]!.offset,
      this.groupId,
      batch.topic,
      batch.partition,
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
    await trx.raw('INSERT INTO consumer_progress (group_id, topic, `partition`, `offset`) VALUES (?, ?, ?, -1)', [
      this.groupId,
      topic,
      partition,
    ]);
    return -1n;
  }

  /** Drops events whose event_id is already applied: a client retry of the same event at another offset. */
  private async dropAppliedEvents(
    trx: Knex.Transaction,
    messages: DecodedMessage<HistoryMessage>[],
  ): Promise<DecodedMessage<HistoryMessage>[]> {
    const ids = [...new Set(messages.filter((m) => m.value.payload.user_id !== null).map((m) => m.value.payload.event_id.toLowerCase()))];
    if (ids.length === 0) return messages;
    const [rows] = (await trx.raw(
      `SELECT event_id FROM history_applied_events WHERE event_id IN (${ids.map(() => '?').join(', ')})`,
      ids,
    )) as [{ event_id: string }[]];
    if (rows.length === 0) return messages;
    const applied = new Set(rows.map((r) => r.event_id.toLowerCase()));
    return messages.filter((m) => !applied.has(m.value.payload.event_id.toLowerCase()));
  }

  /** One multi-row statement per chunk, rows in key order (see HistoryFold.deltas). */
  private async upsert(trx: Knex.Transaction, deltas: HistoryDelta[]): Promise<void> {
    const { head, tail, columns } = this.statement;
    const value: Record<HistoryColumn, (d: HistoryDelta) => unknown> = {
      viewCount: (d) => d.viewCount,
      firstViewedAt: (d) => date(d.firstViewedAt),
      lastViewedAt: (d) => date(d.lastViewedAt),
      ip: (d) => d.ip,
      userAgent: (d) => d.userAgent,
      downloaded: (d) => (d.downloadCount > 0 ? 1 : 0),
      downloadCount: (d) => d.downloadCount,
      lastDownloadedAt: (d) => date(d.lastDownloadedAt),
    };
    const values = deltas.flatMap((d) => [d.userId, d.javId, ...columns.map((k) => value[k](d))]);
    await trx.raw(head + placeholders(deltas.length, 2 + columns.length) + tail, values as Knex.RawBinding[]);
  }
}
