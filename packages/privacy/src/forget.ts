import type Redis from 'ioredis';
import type { Knex } from 'knex';
import type { Db } from 'mongodb';
import type { Catalog } from '@tally/catalog';
// The tables alone: @tally/db's index also loads the CLI, with the MongoDB and Elasticsearch clients
// (+40 MB of RSS in every consumer that imports this package for its tombstones).
import { RAW_EVENT_TABLES } from '@tally/db/tables';
import { counterKeys, ingestKeys, mongoCollections } from '@tally/layout';
import { subjectHash, subjectOf, type Sender, type Subject } from './subjects';

/** Where a person's data lives; each store is optional so a caller can sweep what it can reach. */
export interface ForgetStores {
  /** Tally's own MySQL database (MYSQL_URL): raw logs, tombstones, movie_user_state, dead letters. */
  db: Knex;
  /** The app's tables as mapped (the history table Tally writes). */
  catalog: Catalog;
  redis?: Redis;
  mongo?: Db;
  /** Decodes a dead letter's value (Avro with a registry id) when its key does not name the sender. */
  decode?: (value: Buffer) => Promise<unknown>;
}

export interface ForgetOptions {
  /** 'cli:<os user>' or 'admin-api:<token id>', for the audit row. */
  requestedBy: string;
  /**
   * Wait between the two sweeps: longer than the sinks' tombstone refresh (1 s) plus one chunk's
   * write, so a chunk that started before the tombstone existed has committed and is swept too.
   */
  settleMs?: number;
  /** Rows per UPDATE/DELETE statement: short statements, short row locks. */
  batchRows?: number;
  now?: () => number;
}

export type Removed = Record<string, number>;

export interface ForgetReport {
  subject: Subject['kind'];
  auditId: number;
  /** Per store: rows deleted or anonymized, keys or fields deleted (both sweeps together). */
  removed: Removed;
  alreadyForgotten: boolean;
}

// What an anonymized raw-log row keeps: the event (type, item, time) for the aggregates, nobody's ip.
const ANONYMOUS_IP = '0.0.0.0';

/**
 * Forgets a person: a tombstone first (from then on every sink skips their events), then every store
 * swept of their rows and keys, twice (see settleMs), and an audit row with the counts. Raw-log rows
 * are anonymized, not deleted, so the aggregates built from them stay; everything per person is
 * deleted. Idempotent: forgetting someone again sweeps again and records another audit row.
 */
export async function forget(stores: ForgetStores, subject: Subject, opts: ForgetOptions): Promise<ForgetReport> {
  const now = opts.now ?? Date.now;
  const hash = subjectHash(subject);
  const [audit] = (await stores.db.raw(
    'INSERT INTO tally_forget_audit (subject_kind, subject_hash, requested_by, requested_at) VALUES (?, ?, ?, ?)',
    [subject.kind, hash, opts.requestedBy, new Date(now())],
  )) as [{ insertId: number }];
  const [ins] = (await stores.db.raw('INSERT IGNORE INTO tally_forgotten (subject_kind, subject_hash) VALUES (?, ?)', [
    subject.kind,
    hash,
  ])) as [{ affectedRows: number }];
  const removed: Removed = {};
  const add = (r: Removed) => {
    for (const [k, v] of Object.entries(r)) removed[k] = (removed[k] ?? 0) + v;
  };
  add(await sweep(stores, subject, opts.batchRows ?? 1_000));
  await new Promise((r) => setTimeout(r, opts.settleMs ?? 5_000));
  add(await sweep(stores, subject, opts.batchRows ?? 1_000));
  await stores.db.raw('UPDATE tally_forget_audit SET finished_at = ?, removed = ? WHERE id = ?', [
    new Date(now()),
    JSON.stringify(removed),
    audit.insertId,
  ]);
  return { subject: subject.kind, auditId: audit.insertId, removed, alreadyForgotten: ins.affectedRows === 0 };
}

/** One pass over every store; the counts of what it changed. */
export async function sweep(stores: ForgetStores, subject: Subject, batchRows: number): Promise<Removed> {
  const out: Removed = {};
  const note = (k: string, n: number) => {
    if (n > 0) out[k] = (out[k] ?? 0) + n;
  };
  for (const table of RAW_EVENT_TABLES) note(`mysql.${table}`, await anonymizeRawLog(stores.db, table, subject, batchRows));
  if (subject.kind === 'user') {
    const h = stores.catalog.mapping.history;
    note(
      `mysql.${h.table}`,
      await inBatches(
        stores.db,
        `DELETE FROM ${stores.catalog.sql('history')} WHERE \`${h.user}\` = ? LIMIT ${batchRows}`,
        [subject.userId],
        batchRows,
      ),
    );
    note(
      'mysql.movie_user_state',
      await inBatches(stores.db, `DELETE FROM movie_user_state WHERE user_id = ? LIMIT ${batchRows}`, [subject.userId], batchRows),
    );
    if (stores.mongo)
      note(
        `mongo.${mongoCollections.recommendationSnapshots}`,
        (await stores.mongo.collection(mongoCollections.recommendationSnapshots).deleteMany({ user_id: subject.userId })).deletedCount,
      );
    if (stores.redis) for (const [k, n] of Object.entries(await sweepRedis(stores.redis, subject.userId))) note(k, n);
  }
  note('mysql.dead_letters', await sweepDeadLetters(stores, subject, batchRows));
  return out;
}

/** Statement run until it changes fewer rows than a batch; the total. READ COMMITTED: only matching rows stay locked. */
async function inBatches(db: Knex, sql: string, bindings: Knex.RawBinding[], batchRows: number): Promise<number> {
  let total = 0;
  for (;;) {
    const n = await db.transaction(
      async (trx) => {
        const [r] = (await trx.raw(sql, bindings)) as [{ affectedRows: number }];
        return r.affectedRows;
      },
      { isolationLevel: 'read committed' },
    );
    total += n;
    if (n < batchRows) return total;
  }
}

function anonymizeRawLog(db: Knex, table: string, s: Subject, batchRows: number): Promise<number> {
  const set = `UPDATE \`${table}\` SET user_id = NULL, ip = '${ANONYMOUS_IP}', user_agent = NULL`;
  return s.kind === 'user'
    ? inBatches(db, `${set} WHERE user_id = ? LIMIT ${batchRows}`, [s.userId], batchRows)
    : inBatches(db, `${set} WHERE user_id IS NULL AND ip = ? LIMIT ${batchRows}`, [s.ip], batchRows);
}

/**
 * The counter's per-user state (likes, ratings, watchlists) in Redis: the user's field in every
 * movie's state hash, and their not-yet-flushed state changes in the pending hashes. The counts the
 * state explains stay (aggregates); without the state a later change of theirs is skipped anyway.
 */
async function sweepRedis(redis: Redis, userId: number): Promise<Removed> {
  const out: Removed = { 'redis.counter_state': 0, 'redis.counter_pending_state': 0, 'redis.ingest_view_keys': 0 };
  for await (const keys of redis.scanStream({ match: counterKeys.statePattern, count: 500 }) as AsyncIterable<string[]>) {
    for (const key of keys) out['redis.counter_state']! += await redis.hdel(key, String(userId));
  }
  const suffix = `:${userId}`;
  // The live pending hash and those the flusher has taken but not yet written (their ids are in a set).
  const pendingHashes = [counterKeys.pending, ...(await redis.smembers(counterKeys.flushes)).map((id) => counterKeys.flushing(id))];
  for (const key of pendingHashes) {
    if ((await redis.type(key)) !== 'hash') continue;
    for await (const fields of redis.hscanStream(key, { match: `state:*${suffix}`, count: 500 }) as AsyncIterable<string[]>) {
      const names = fields.filter((_, i) => i % 2 === 0).filter((f) => f.endsWith(suffix) && f.split(':').length === 4);
      if (names.length > 0) out['redis.counter_pending_state']! += await redis.hdel(key, ...names);
    }
  }
  // VIEW_DEDUP_WINDOW's keys of the user (a guest's are a hash of ip and user agent, and expire with the window).
  for await (const keys of redis.scanStream({ match: ingestKeys.userViewsPattern(userId), count: 500 }) as AsyncIterable<string[]>) {
    if (keys.length > 0) out['redis.ingest_view_keys']! += await redis.del(...keys);
  }
  return out;
}

/**
 * Dead letters of the subject: by the record key when it names the viewer (`user:<id>:…`,
 * `ip:<ip>:…`), else by the decoded value's user_id and ip. Undecodable values cannot be told apart
 * and stay (they age out with the dead letters' retention).
 */
async function sweepDeadLetters(stores: ForgetStores, s: Subject, batchRows: number): Promise<number> {
  const wanted = subjectHash(s).toString('hex');
  const viewerKey = s.kind === 'user' ? `user:${s.userId}` : `ip:${s.ip}`;
  let after = 0;
  let deleted = 0;
  for (;;) {
    const [rows] = (await stores.db.raw('SELECT id, message_key, payload FROM dead_letters WHERE id > ? ORDER BY id LIMIT ?', [
      after,
      batchRows,
    ])) as [{ id: number; message_key: Buffer | null; payload: Buffer | null }[]];
    if (rows.length === 0) return deleted;
    const ids: number[] = [];
    for (const r of rows) {
      const key = r.message_key?.toString('utf8') ?? '';
      if (key === viewerKey || key.startsWith(`${viewerKey}:`)) {
        ids.push(r.id);
        continue;
      }
      if (!r.payload || !stores.decode) continue;
      const value = await stores.decode(r.payload).catch(() => undefined);
      if (isSender(value) && subjectHash(subjectOf(value)).toString('hex') === wanted) ids.push(r.id);
    }
    if (ids.length > 0) {
      const [res] = (await stores.db.raw(`DELETE FROM dead_letters WHERE id IN (${ids.map(() => '?').join(',')})`, ids)) as [
        { affectedRows: number },
      ];
      deleted += res.affectedRows;
    }
    after = rows[rows.length - 1]!.id;
  }
}

function isSender(v: unknown): v is Sender {
  if (v === null || typeof v !== 'object') return false;
  const o = v as Record<string, unknown>;
  return (o.user_id === null || typeof o.user_id === 'number') && typeof o.ip === 'string';
}
