import type { Client } from '@elastic/elasticsearch';
import { createElasticsearchClient } from '@tally/clients';
import { createTempDatabase, migrateLatest, seedDemo, type TempDatabase } from '@tally/db';
import { env, uniqueName } from '../helpers/env';
import { ServiceProcess } from '../helpers/process';

export const ENTRY = 'services/es-sync/dist/main.js';

/** A private MySQL database with demo data and a private index prefix on the shared OpenSearch. */
export interface SyncWorld {
  tmp: TempDatabase;
  es: Client;
  prefix: string;
  alias: (index: 'jav' | 'actors' | 'tags') => string;
}

export async function createWorld(movies = 300): Promise<SyncWorld> {
  const tmp = await createTempDatabase(env.MYSQL_URL, 'tally_test_essync');
  await migrateLatest(tmp.db);
  await seedDemo(tmp.db, { movies, actors: 60, tags: 40, users: 5, seed: 11 });
  const prefix = `${uniqueName('essync')}_`;
  return { tmp, es: createElasticsearchClient({ url: env.ES_URL, flavor: env.ES_FLAVOR }), prefix, alias: (i) => `${prefix}${i}` };
}

/** Deletes only the indices this world created (its prefix), then its database. */
export async function destroyWorld(w: SyncWorld | undefined): Promise<void> {
  if (!w) return;
  const mine = Object.keys(await w.es.indices.get({ index: `${w.prefix}*`, allow_no_indices: true, expand_wildcards: 'all' }));
  for (const index of mine) if (index.startsWith(w.prefix)) await w.es.indices.delete({ index });
  await w.es.close();
  await w.tmp.drop();
}

export function syncEnv(w: SyncWorld, extra: Record<string, string> = {}): Record<string, string> {
  // SETTLE_LAG=0: rows changed by the test just now must be picked up by the next run.
  return { MYSQL_URL: w.tmp.url, ES_INDEX_PREFIX: w.prefix, LOG_LEVEL: 'info', SETTLE_LAG: '0ms', RETRY_BACKOFF: '20ms', ...extra };
}

export interface RunOutcome {
  code: number | null;
  output: string;
  /** The `job run succeeded` log line (its summary fields), when the run succeeded. */
  summary?: Record<string, unknown>;
}

/** `es-sync --once [flags]` as a real process, to its exit. */
export async function runSync(w: SyncWorld, flags: string[] = [], extra: Record<string, string> = {}): Promise<RunOutcome> {
  const p = new ServiceProcess(ENTRY, syncEnv(w, extra), ['--once', ...flags]);
  const { code } = await p.waitExit(120_000);
  const line = p.output.split('\n').find((l) => l.includes('"job run succeeded"'));
  return { code, output: p.output, ...(line ? { summary: JSON.parse(line) as Record<string, unknown> } : {}) };
}

export type Counts = { views: number; downloads: number; likes: number };

export async function mysqlCounts(w: SyncWorld): Promise<Map<number, Counts>> {
  const rows = (await w.tmp.db('jav').select('id', 'views', 'downloads', 'likes').orderBy('id')) as ({ id: number } & Counts)[];
  return new Map(rows.map((r) => [Number(r.id), { views: Number(r.views), downloads: Number(r.downloads), likes: Number(r.likes) }]));
}

export async function esCounts(w: SyncWorld): Promise<Map<number, Counts>> {
  await w.es.indices.refresh({ index: w.alias('jav') });
  const res = await w.es.search<Counts>({
    index: w.alias('jav'),
    size: 10_000,
    _source: ['views', 'downloads', 'likes'],
    query: { match_all: {} },
  });
  return new Map(
    res.hits.hits.map((h) => [Number(h._id), { views: h._source!.views, downloads: h._source!.downloads, likes: h._source!.likes }]),
  );
}

export async function watermark(w: SyncWorld): Promise<{ at: Date; id: number } | undefined> {
  const row = await w.tmp
    .db('sync_watermarks')
    .where({ name: `es-sync:${w.alias('jav')}:counts` })
    .first();
  return row ? { at: row.watermark as Date, id: Number(row.watermark_id) } : undefined;
}

/** Sets new counts on some movies and stamps them as the flusher does (one statement, one NOW(3)). */
export async function bumpCounts(w: SyncWorld, ids: readonly number[], by: number): Promise<void> {
  await w.tmp
    .db('jav')
    .whereIn('id', ids)
    .update({
      views: w.tmp.db.raw('views + ?', [by]),
      downloads: w.tmp.db.raw('downloads + ?', [by]),
      likes: w.tmp.db.raw('likes + ?', [by]),
      counts_updated_at: w.tmp.db.raw('NOW(3)'),
    });
}

export async function lastJobRun(w: SyncWorld): Promise<{ status: string; error: string | null; items: number | null }> {
  return (await w.tmp.db('job_runs').where({ job: 'es-sync' }).orderBy('id', 'desc').first()) as {
    status: string;
    error: string | null;
    items: number | null;
  };
}

export async function metricSum(port: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith(name) && (l[name.length] === '{' || l[name.length] === ' '))
    .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}
