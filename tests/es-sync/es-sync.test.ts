import { ServiceProcess } from '../helpers/process';
import { testPort } from '../helpers/services';
import {
  bumpCounts,
  createWorld,
  destroyWorld,
  ENTRY,
  esCounts,
  metricSum,
  mysqlCounts,
  runSync,
  syncEnv,
  watermark,
  type SyncWorld,
} from './support';

// es-sync as a real process against the local MySQL and OpenSearch, on a private database and a
// private index prefix. Scenarios build on each other: the indices built by the first one are
// synced, broken and repaired by the next.
jest.setTimeout(180_000);

const PORT = testPort(19400);
let w: SyncWorld;

beforeAll(async () => {
  w = await createWorld();
});
afterAll(async () => {
  await destroyWorld(w);
});

async function javIndexBehindAlias(): Promise<string> {
  const [index] = Object.keys(await w.es.indices.getAlias({ name: w.alias('jav') }));
  return index!;
}

describe('es-sync --reindex', () => {
  it('refuses an incremental run before any index exists, naming --reindex', async () => {
    const r = await runSync(w);
    expect(r.code).toBe(1);
    expect(r.output).toMatch(/run `es-sync --reindex` once/);
  });

  it('builds jav, actors and tags with their mappings from MySQL behind the aliases', async () => {
    const r = await runSync(w, ['--reindex']);
    expect(r.code).toBe(0);
    for (const index of ['jav', 'actors', 'tags'] as const) {
      const targets = Object.keys(await w.es.indices.getAlias({ name: w.alias(index) }));
      expect(targets).toEqual([expect.stringMatching(new RegExp(`^${w.alias(index)}_v\\d{8}t\\d{9}z$`))]);
    }
    const mapping = Object.values(await w.es.indices.getMapping({ index: w.alias('jav') }))[0]!.mappings;
    expect(mapping.dynamic).toBe('strict');
    expect(mapping.properties).toMatchObject({
      views: { type: 'long' },
      likes: { type: 'long' },
      tags: { type: 'keyword' },
      release_date: { type: 'date' },
    });
    const tagMapping = Object.values(await w.es.indices.getMapping({ index: w.alias('tags') }))[0]!.mappings;
    expect(tagMapping.properties!.name).toMatchObject({ type: 'search_as_you_type' });

    expect(await esCounts(w)).toEqual(await mysqlCounts(w));
    // One whole document against MySQL, with its actor and tag names from the link tables.
    const movie = await w.tmp.db('jav').where({ id: 17 }).first();
    const tags = (await w.tmp
      .db('jav_tags')
      .join('tags', 'tags.id', 'jav_tags.tag_id')
      .where({ jav_id: 17 })
      .orderBy('tags.name')
      .pluck('tags.name')) as string[];
    const actors = (await w.tmp
      .db('jav_actors')
      .join('actors', 'actors.id', 'jav_actors.actor_id')
      .where({ jav_id: 17 })
      .orderBy('actors.name')
      .pluck('actors.name')) as string[];
    const doc = (await w.es.get<Record<string, unknown>>({ index: w.alias('jav'), id: '17' }))._source!;
    expect(doc).toMatchObject({ id: 17, code: movie.code, title: movie.title, provider: movie.provider, tags, actors });
    expect(doc.release_date).toBe((movie.release_date as Date).toISOString().slice(0, 10));
    for (const index of ['actors', 'tags'] as const) {
      const count = (await w.es.count({ index: w.alias(index) })).count;
      const [rows] = await w.tmp.db(index).count({ n: '*' });
      expect(count).toBe(Number(rows!.n));
    }
    const [tag] = await w.tmp.db('tags').where({ id: 3 });
    const [links] = await w.tmp.db('jav_tags').where({ tag_id: 3 }).count({ n: '*' });
    expect((await w.es.get<Record<string, unknown>>({ index: w.alias('tags'), id: '3' }))._source).toMatchObject({
      name: tag.name,
      movie_count: Number(links!.n),
    });
  });

  it('a second --reindex builds new indices, swaps every alias to them and deletes the old ones', async () => {
    const before = await javIndexBehindAlias();
    const r = await runSync(w, ['--reindex']);
    expect(r.code).toBe(0);
    const after = await javIndexBehindAlias();
    expect(after).not.toBe(before);
    expect(await w.es.indices.exists({ index: before })).toBe(false);
    expect(await esCounts(w)).toEqual(await mysqlCounts(w));
  });
});

describe('es-sync counts', () => {
  it('incremental: counts changed in MySQL are in the index after a run, and the watermark is the last row', async () => {
    const ids = [2, 40, 41, 150, 299];
    await bumpCounts(w, ids, 1_000);
    const r = await runSync(w);
    expect(r.code).toBe(0);
    expect(r.summary).toMatchObject({ mode: 'incremental', synced: ids.length, missing: 0, failed: 0 });
    expect(await esCounts(w)).toEqual(await mysqlCounts(w));
    const last = await w.tmp
      .db('jav')
      .whereIn('id', ids)
      .orderBy([
        { column: 'counts_updated_at', order: 'desc' },
        { column: 'id', order: 'desc' },
      ])
      .first();
    expect(await watermark(w)).toEqual({ at: last.counts_updated_at, id: Number(last.id) });
    // Nothing changed since: the next run sends nothing.
    expect((await runSync(w)).summary).toMatchObject({ synced: 0 });
  });

  it('--full resends every row, including counts changed without a new counts_updated_at', async () => {
    await w.tmp.db('jav').whereIn('id', [5, 6, 7]).update({ views: 123_456_789 });
    expect((await runSync(w)).summary).toMatchObject({ synced: 0 }); // invisible to the watermark
    expect((await esCounts(w)).get(5)!.views).not.toBe(123_456_789);
    const r = await runSync(w, ['--full']);
    expect(r.code).toBe(0);
    expect(r.summary).toMatchObject({ mode: 'full', synced: 300, failed: 0 });
    expect(await esCounts(w)).toEqual(await mysqlCounts(w));
  });

  it('a movie with no document is counted and reported (metric, log, job summary), not created', async () => {
    await w.es.delete({ index: w.alias('jav'), id: '60', refresh: true });
    await bumpCounts(w, [60, 61], 5);
    const p = new ServiceProcess(ENTRY, syncEnv(w, { MANAGEMENT_PORT: String(PORT), SCHEDULE: '0 0 1 1 *', RUN_ON_START: 'true' }));
    try {
      await p.until(async () => ((await metricSum(PORT, 'tally_job_runs_total')) === 1 ? true : undefined), 30_000, `the run on start`);
      expect(await metricSum(PORT, 'tally_documents_missing_total')).toBe(1);
      expect(await metricSum(PORT, 'tally_job_last_run_items')).toBe(1);
      p.signal('SIGTERM');
      expect((await p.waitExit()).code).toBe(0);
    } finally {
      await p.kill();
    }
    const line = JSON.parse(p.output.split('\n').find((l) => l.includes('"job run succeeded"'))!) as Record<string, unknown>;
    expect(line).toMatchObject({ synced: 1, missing: 1, missingIds: [60], failed: 0 });
    expect(p.output).toMatch(/no document in the jav index: counted, not created/);
    expect(await w.es.exists({ index: w.alias('jav'), id: '60' })).toBe(false);
    const counts = await esCounts(w);
    expect(counts.get(61)).toEqual((await mysqlCounts(w)).get(61));
    // Missing is not failed: the watermark moved past both.
    expect((await watermark(w))!.id).toBe(61);
  });
});

describe('es-sync tags', () => {
  const bySearch = async (text: string, fuzzy = false) => {
    await w.es.indices.refresh({ index: w.alias('tags') });
    const query = fuzzy
      ? { match: { name: { query: text, fuzziness: 'AUTO' } } }
      : { multi_match: { query: text, type: 'bool_prefix' as const, fields: ['name', 'name._2gram', 'name._3gram'] } };
    const res = await w.es.search<{ name: string; movie_count: number }>({ index: w.alias('tags'), query });
    return res.hits.hits.map((h) => h._source!);
  };

  it('finds a tag by a prefix of its name', async () => {
    const tag = (await w.tmp.db('tags').where({ id: 1 }).first()) as { name: string };
    const hits = await bySearch(tag.name.slice(0, 3).toLowerCase());
    expect(hits.map((h) => h.name)).toContain(tag.name);
  });

  it('every run keeps the tags index current: new tags and counts, renames, deletions', async () => {
    const [id] = await w.tmp.db('tags').insert({ name: 'Zeppelin Voyages' });
    await w.tmp.db('jav_tags').insert([
      { jav_id: 1, tag_id: id },
      { jav_id: 2, tag_id: id },
    ]);
    await w.tmp.db('tags').where({ id: 2 }).delete();
    await w.tmp.db('jav_tags').where({ tag_id: 2 }).delete();
    await w.tmp.db('tags').where({ id: 4 }).update({ name: 'Quokka Moments' });
    expect((await runSync(w)).code).toBe(0);
    expect(await bySearch('zepp')).toEqual([expect.objectContaining({ name: 'Zeppelin Voyages', movie_count: 2 })]);
    expect(await bySearch('zepplin', true)).toEqual([expect.objectContaining({ name: 'Zeppelin Voyages' })]); // one typo
    expect(await w.es.exists({ index: w.alias('tags'), id: '2' })).toBe(false);
    expect(await bySearch('quok')).toEqual([expect.objectContaining({ id: 4, name: 'Quokka Moments' })]);
  });
});
