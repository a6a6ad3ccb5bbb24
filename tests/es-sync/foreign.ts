import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { env } from '../helpers/env';
import type { SyncWorld } from './support';

// The web app's own indices, as es-sync finds them on a cluster it did not set up: its own field
// names (view_count is its views field), no _meta marker, documents es-sync knows nothing about.

/** Movie ids the app has documents for (MySQL has 1..300), plus one MySQL does not know. */
export const APP_MOVIE_IDS = [...Array.from({ length: 20 }, (_, i) => i + 1), 5001];

export const appNames = (w: SyncWorld) => ({
  jav: w.alias('jav'), // a concrete index
  actors: w.alias('actors'), // a concrete index
  tags: w.alias('tags'), // an alias over the app's own versioned index
  tagsIndex: `${w.prefix}app_tags_2`,
});

/** Counts written only to view_count: the app has no downloads or likes fields. */
/** The app's count field names, as a catalog mapping file (the demo tables otherwise): views only, as `view_count`. */
const mappingDir = mkdtempSync(join(tmpdir(), 'es-foreign-'));
writeFileSync(
  join(mappingDir, 'catalog.json'),
  JSON.stringify({ search: { movies: { countFields: { views: 'view_count', downloads: null, likes: null } } } }),
);
export const APP_FIELDS_ENV = { CATALOG_MAPPING: join(mappingDir, 'catalog.json') };

export async function createAppIndices(w: SyncWorld): Promise<void> {
  const n = appNames(w);
  await w.es.indices.create({
    index: n.jav,
    settings: { number_of_shards: 1, number_of_replicas: 0 },
    mappings: {
      properties: {
        dvd_id: { type: 'keyword' },
        maker: { type: 'keyword' },
        title_ja: { type: 'text' },
        view_count: { type: 'integer' },
        rating: { type: 'float' },
        release: { type: 'date' },
        cast: { type: 'keyword' },
        extra: { type: 'object' },
      },
    },
  });
  const movies = APP_MOVIE_IDS.flatMap((id) => [
    { index: { _index: n.jav, _id: String(id) } },
    {
      dvd_id: `APP-${String(id).padStart(3, '0')}`,
      maker: 'S1 No.1 Style',
      title_ja: `作品 ${id} — “quoted” ü`,
      view_count: 1_000_000 + id,
      rating: 4.25,
      release: '2024-02-29',
      cast: ['Ａ', 'B'],
      extra: { note: null, flags: [true, false], depth: { n: id } },
      legacy_rank: id * 3,
    },
  ]);
  await w.es.bulk({ operations: movies, refresh: true });

  for (const [index, alias] of [
    [n.actors, undefined],
    [n.tagsIndex, n.tags],
  ] as const) {
    await w.es.indices.create({
      index,
      settings: { number_of_shards: 1, number_of_replicas: 0 },
      mappings: { properties: { label: { type: 'keyword' }, slug: { type: 'keyword' } } },
      ...(alias ? { aliases: { [alias]: {} } } : {}),
    });
    const docs = [1, 2, 3].flatMap((id) => [
      { index: { _index: index, _id: String(id) } },
      { label: `app ${index} ${id}`, slug: `s-${id}` },
    ]);
    await w.es.bulk({ operations: docs, refresh: true });
  }
}

/** A document's `_source` exactly as stored (bytes, not parsed JSON). */
export async function rawSource(index: string, id: number): Promise<string> {
  const res = await fetch(`${env.ES_URL}/${index}/_source/${id}`);
  if (!res.ok) throw new Error(`GET ${index}/_source/${id}: ${res.status} ${await res.text()}`);
  return res.text();
}

export async function rawSources(index: string, ids: readonly number[]): Promise<Map<number, string>> {
  return new Map(await Promise.all(ids.map(async (id) => [id, await rawSource(index, id)] as const)));
}

/** Everything about an index a run must not change: mapping, settings (uuid included), aliases, document count. */
export async function indexState(w: SyncWorld, index: string): Promise<unknown> {
  await w.es.indices.refresh({ index });
  const [info] = Object.values(await w.es.indices.get({ index }));
  return { ...info, count: (await w.es.count({ index })).count };
}

export async function viewCounts(w: SyncWorld, index: string): Promise<Map<number, number>> {
  await w.es.indices.refresh({ index });
  const res = await w.es.search<{ view_count: number }>({ index, size: 10_000, _source: ['view_count'], query: { match_all: {} } });
  return new Map(res.hits.hits.map((h) => [Number(h._id), h._source!.view_count]));
}

export async function mysqlViews(w: SyncWorld): Promise<Map<number, number>> {
  const rows = (await w.tmp.db('jav').select('id', 'views')) as { id: number; views: number }[];
  return new Map(rows.map((r) => [Number(r.id), Number(r.views)]));
}
