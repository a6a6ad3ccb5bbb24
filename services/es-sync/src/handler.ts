import { DEFAULT_COUNT_FIELDS, writtenCountFields, type CountFields } from './target';

/**
 * Pure decisions of es-sync: which documents a MySQL row becomes, what a bulk item's answer means,
 * and how far the watermark may move. No I/O here (sink.ts writes, source.ts reads).
 */

/** Position in the `(counts_updated_at, id)` order of jav: the last row known to be in the index. */
export interface Watermark {
  at: Date;
  id: number;
}

/** Before every stamped row (NULL counts_updated_at rows are never "changed"; --full covers them). */
export const WATERMARK_START: Watermark = Object.freeze({ at: new Date(0), id: 0 });

export interface CountsRow {
  id: number;
  views: number | string;
  downloads: number | string;
  likes: number | string;
  counts_updated_at: Date | null;
}

export interface MovieRow extends CountsRow {
  code: string;
  title: string;
  provider: string;
  release_date: Date | string | null;
}

/** A catalog entity (actor or tag) with the number of movies linked to it. */
export interface CatalogRow {
  id: number;
  name: string;
  movie_count: number;
}

/** One _bulk action: `update` = partial update of an existing document, `index` = whole document. */
export interface BulkOp {
  id: number;
  action: 'update' | 'index';
  doc: Record<string, unknown>;
}

export function compareWatermarks(a: Watermark, b: Watermark): number {
  return a.at.getTime() - b.at.getTime() || a.id - b.id;
}

export function rowKey(row: CountsRow): Watermark {
  // Rows come from `counts_updated_at > watermark`, so a NULL never reaches here in incremental mode.
  return { at: row.counts_updated_at ?? new Date(0), id: row.id };
}

/**
 * mysql2 returns BIGINT as a number while it is a safe integer and as a string beyond 2^53; the
 * string goes to Elasticsearch as is (a long field parses it exactly) rather than rounded.
 */
export function count(v: number | string): number | string {
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : String(v);
}

/** The counts under their configured field names (a null field is not written). */
export function countValues(row: CountsRow, fields: CountFields): Record<string, number | string> {
  return Object.fromEntries(writtenCountFields(fields).map(([name, field]) => [field, count(row[name])]));
}

/**
 * The partial update of a movie's counts. Never an upsert: a missing document is reported, not
 * invented. `stamp` = false for a foreign index: only its own count fields change, nothing is added.
 */
export function countsUpdate(row: CountsRow, fields: CountFields = DEFAULT_COUNT_FIELDS, stamp = true): BulkOp {
  const doc: Record<string, unknown> = countValues(row, fields);
  if (stamp) doc.counts_updated_at = row.counts_updated_at;
  return { id: row.id, action: 'update', doc };
}

/** DATE columns arrive as a Date at UTC midnight (the session is UTC) or, from some drivers, a string. */
export function isoDate(d: Date | string | null): string | null {
  if (d === null) return null;
  return typeof d === 'string' ? d.slice(0, 10) : d.toISOString().slice(0, 10);
}

/** The whole jav document: what query-api sorts by popularity and searches by title, code, actor, tag. */
export function movieDocument(
  row: MovieRow,
  actors: readonly string[],
  tags: readonly string[],
  fields: CountFields = DEFAULT_COUNT_FIELDS,
): BulkOp {
  return {
    id: row.id,
    action: 'index',
    doc: {
      id: row.id,
      code: row.code,
      title: row.title,
      provider: row.provider,
      release_date: isoDate(row.release_date),
      ...countValues(row, fields),
      counts_updated_at: row.counts_updated_at,
      actors: [...actors],
      tags: [...tags],
    },
  };
}

/** An actor or tag document; `synced_run` lets the run delete documents whose row is gone. */
export function catalogDocument(row: CatalogRow, runId: number): BulkOp {
  return { id: row.id, action: 'index', doc: { id: row.id, name: row.name, movie_count: Number(row.movie_count), synced_run: runId } };
}

export interface BulkItemAnswer {
  status: number;
  error?: { type?: string; reason?: string } | undefined;
}

export type ItemOutcome = { kind: 'ok' } | { kind: 'missing' } | { kind: 'retry'; reason: string } | { kind: 'failed'; reason: string };

/**
 * 429 (queue full, flood-stage disk), 409 (a concurrent write won the race) and 5xx can pass on
 * their own, so they are retried within the run. Other 4xx (a mapping conflict, a write block) will
 * not pass by waiting a second; they are reported at once and retried by the next run, because the
 * watermark stays before them.
 */
export function classifyItem(item: BulkItemAnswer): ItemOutcome {
  if (!item.error && item.status >= 200 && item.status < 300) return { kind: 'ok' };
  const type = item.error?.type ?? `status_${item.status}`;
  if (type === 'document_missing_exception') return { kind: 'missing' };
  const reason = item.error?.reason ? `${type}: ${item.error.reason}` : type;
  if (item.status === 429 || item.status === 409 || item.status >= 500) return { kind: 'retry', reason };
  return { kind: 'failed', reason };
}

/** Short label for metrics: the error type without its free-text reason. */
export function reasonLabel(reason: string): string {
  return reason.split(':', 1)[0]!.slice(0, 60);
}

/**
 * How far the watermark may move after a page (rows in key order) of which `failed` ids did not make
 * it: up to the row before the first failure, and never again in this run once one failed
 * (`blocked`), so the next run starts at that row. Missing documents count as done: they are
 * reported, and --reindex (not a retry) is what fixes them.
 */
export function advanceWatermark(
  current: Watermark,
  rows: readonly CountsRow[],
  failed: ReadonlySet<number>,
): { watermark: Watermark; blocked: boolean } {
  let watermark = current;
  for (const row of rows) {
    if (failed.has(row.id)) return { watermark, blocked: true };
    const key = rowKey(row);
    if (compareWatermarks(key, watermark) > 0) watermark = key;
  }
  return { watermark, blocked: false };
}

/** Per-run tally, returned as the job summary and turned into metrics and log lines. */
export interface SyncTally {
  synced: number;
  missing: number;
  retried: number;
  failed: Map<number, string>;
  missingIds: number[];
}

export const emptyTally = (): SyncTally => ({ synced: 0, missing: 0, retried: 0, failed: new Map(), missingIds: [] });

/** At most this many ids are listed in logs and the job summary; the counts are exact. */
export const SAMPLE_IDS = 20;

export function describeFailures(failed: ReadonlyMap<number, string>): string {
  const shown = [...failed].slice(0, 5).map(([id, reason]) => `${id} (${reason.slice(0, 200)})`);
  return `${failed.size} document(s) failed: ${shown.join('; ')}${failed.size > shown.length ? '; …' : ''}`;
}
