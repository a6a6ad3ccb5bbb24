import { APP_FIELDS_ENV, APP_MOVIE_IDS, appNames, createAppIndices, indexState, mysqlViews, rawSources, viewCounts } from './foreign';
import { bumpCounts, createWorld, destroyWorld, lastJobRun, runSync, type SyncWorld } from './support';

// es-sync on a cluster where the web app already owns jav, actors and tags (its own fields, no
// es-sync marker). Scenarios build on each other: in-place count updates, the refusals, the
// take-over, and what runs after it. Own world and prefix.
jest.setTimeout(180_000);

let w: SyncWorld;
let names: ReturnType<typeof appNames>;
const inMysql = APP_MOVIE_IDS.filter((id) => id <= 300);

beforeAll(async () => {
  w = await createWorld(300);
  names = appNames(w);
  await createAppIndices(w);
});
afterAll(async () => {
  await destroyWorld(w);
});

/** The app's documents as they must look after a run: unchanged bytes except view_count = MySQL views. */
async function expectOnlyViewCountsChanged(before: Map<number, string>): Promise<void> {
  const views = await mysqlViews(w);
  const after = await rawSources(names.jav, APP_MOVIE_IDS);
  for (const id of APP_MOVIE_IDS) {
    const expected = views.has(id) ? before.get(id)!.replace(/"view_count":\d+/, `"view_count":${views.get(id)}`) : before.get(id);
    expect({ id, source: after.get(id) }).toEqual({ id, source: expected });
  }
}

async function snapshot() {
  return {
    jav: await indexState(w, names.jav),
    actors: await indexState(w, names.actors),
    tags: await indexState(w, names.tagsIndex),
    actorDocs: await rawSources(names.actors, [1, 2, 3]),
    tagDocs: await rawSources(names.tagsIndex, [1, 2, 3]),
  };
}

describe("es-sync with the web app's own indices", () => {
  it("--init is a no-op when the names exist, even though they are not Tally's", async () => {
    const before = await snapshot();
    const r = await runSync(w, ['--init'], APP_FIELDS_ENV);
    expect(r.code).toBe(0);
    expect(r.summary).toMatchObject({ mode: 'init', created: [], kept: [names.jav, names.actors, names.tags] });
    expect(await snapshot()).toEqual(before);
  });

  it('an incremental run updates only view_count, in place; actors and tags are not rewritten (logged once)', async () => {
    const before = await snapshot();
    const sources = await rawSources(names.jav, APP_MOVIE_IDS);
    await bumpCounts(w, [3, 7, 250], 40);
    const r = await runSync(w, [], APP_FIELDS_ENV);
    expect(r.code).toBe(0);
    // Every row is past the (new) watermark: the app's 20 documents updated, the other 280 counted, not created.
    expect(r.summary).toMatchObject({
      mode: 'incremental',
      synced: inMysql.length,
      missing: 300 - inMysql.length,
      failed: 0,
      actors: 0,
      tags: 0,
    });
    expect(r.summary).toMatchObject({ moviesIndex: 'foreign', foreignSkipped: [names.actors, names.tags] });
    expect(r.output.split('\n').filter((l) => l.includes('not created by es-sync (no _meta marker)'))).toHaveLength(1);
    await expectOnlyViewCountsChanged(sources);
    // Mapping (no counts_updated_at, downloads or likes added), settings, document count: as they were.
    expect(await snapshot()).toEqual(before);
    expect((await viewCounts(w, names.jav)).get(250)).toBeUndefined();
  });

  it('--full resends every row, again changing only view_count', async () => {
    await w.tmp.db('jav').whereIn('id', [5, 6]).update({ views: 777_777 }); // no new stamp: only --full sees it
    const before = await snapshot();
    const sources = await rawSources(names.jav, APP_MOVIE_IDS);
    const r = await runSync(w, ['--full'], APP_FIELDS_ENV);
    expect(r.code).toBe(0);
    expect(r.summary).toMatchObject({
      mode: 'full',
      synced: inMysql.length,
      missing: 300 - inMysql.length,
      failed: 0,
      moviesIndex: 'foreign',
    });
    expect((await viewCounts(w, names.jav)).get(5)).toBe(777_777);
    await expectOnlyViewCountsChanged(sources);
    expect(await snapshot()).toEqual(before);
  });

  it('a count field the app index does not map fails the run, naming the variable to set', async () => {
    const before = await snapshot();
    const r = await runSync(w, ['--full']); // the default mapping: views → views
    expect(r.code).toBe(1);
    expect((await lastJobRun(w)).error).toMatch(
      new RegExp(
        `^${names.jav} \\(${names.jav}\\) has no field "views" for views: set search\\.movies\\.countFields\\.views in CATALOG_MAPPING to the field it has, or null to not write views$`,
      ),
    );
    expect(await snapshot()).toEqual(before);
  });

  it('--reindex refuses the foreign names (exit 1), naming them and --take-over; nothing is built', async () => {
    const before = await snapshot();
    const r = await runSync(w, ['--reindex'], APP_FIELDS_ENV);
    expect(r.code).toBe(1);
    const error = (await lastJobRun(w)).error!;
    expect(error).toContain(`--reindex refused: ${names.jav} (a concrete index; it would be kept as ${names.jav}_pre_tally_`);
    expect(error).toContain(`${names.tags} (an alias over ${names.tagsIndex}; they would be kept, the alias moved)`);
    expect(error).toMatch(/run `es-sync --reindex --take-over`\.$/);
    expect(r.output).toContain('--reindex --take-over');
    const all = Object.keys(await w.es.indices.get({ index: `${w.prefix}*` }));
    expect(all.sort()).toEqual([names.actors, names.tagsIndex, names.jav].sort());
    expect(await snapshot()).toEqual(before);
  });

  it('--take-over without --reindex is an invalid option (exit 2)', async () => {
    const r = await runSync(w, ['--take-over'], APP_FIELDS_ENV);
    expect(r.code).toBe(2);
    expect(r.output).toMatch(/--take-over needs --reindex/);
  });

  it("--reindex --take-over serves Tally's indices under the names and keeps every app document", async () => {
    const javSources = await rawSources(names.jav, APP_MOVIE_IDS);
    const before = await snapshot();
    const r = await runSync(w, ['--reindex', '--take-over'], APP_FIELDS_ENV);
    expect(r.code).toBe(0);

    // The names are aliases over Tally's marked indices, loaded from MySQL.
    for (const name of [names.jav, names.actors, names.tags]) {
      const [index, ...more] = Object.keys(await w.es.indices.getAlias({ name }));
      expect(more).toEqual([]);
      expect(index).toMatch(new RegExp(`^${name}_v\\d{8}t\\d{9}z$`));
      expect(Object.values(await w.es.indices.getMapping({ index: name }))[0]!.mappings._meta).toEqual({ managed_by: 'tally-es-sync' });
    }
    expect(await viewCounts(w, names.jav)).toEqual(await mysqlViews(w));

    // The concrete app indices live on as their pre-Tally copies: same documents, bytes, mapping, blocks.
    const all = Object.keys(await w.es.indices.get({ index: `${w.prefix}*` }));
    const javCopy = all.find((i) => i.startsWith(`${names.jav}_pre_tally_`))!;
    const actorsCopy = all.find((i) => i.startsWith(`${names.actors}_pre_tally_`))!;
    expect(r.summary).toMatchObject({ mode: 'reindex', kept: [javCopy, actorsCopy, names.tagsIndex], retired: [] });
    expect(await rawSources(javCopy, APP_MOVIE_IDS)).toEqual(javSources);
    expect(await rawSources(actorsCopy, [1, 2, 3])).toEqual(before.actorDocs);
    for (const [copy, was] of [
      [javCopy, before.jav],
      [actorsCopy, before.actors],
    ] as const) {
      const state = (await indexState(w, copy)) as { mappings: unknown; count: number; settings: { index: { blocks?: unknown } } };
      const old = was as typeof state;
      expect(state.mappings).toEqual(old.mappings);
      expect(state.count).toBe(old.count);
      expect(state.settings.index.blocks).toEqual(old.settings.index.blocks); // not left write-blocked
    }
    // The app's aliased tags index is kept exactly as it was, only without the alias.
    const tagsNow = (await indexState(w, names.tagsIndex)) as { aliases: unknown };
    expect(tagsNow).toEqual({ ...(before.tags as object), aliases: {} });
    expect(await rawSources(names.tagsIndex, [1, 2, 3])).toEqual(before.tagDocs);
  });

  it("after the take-over: runs are Tally's again (tags rewritten), and --init is a no-op", async () => {
    await bumpCounts(w, [9], 5);
    const r = await runSync(w, [], APP_FIELDS_ENV);
    expect(r.code).toBe(0);
    expect(r.summary).toMatchObject({ synced: 1, moviesIndex: 'tally', foreignSkipped: [] });
    expect(Number(r.summary!.tags)).toBeGreaterThan(0);
    expect(await viewCounts(w, names.jav)).toEqual(await mysqlViews(w));
    const behind = Object.keys(await w.es.indices.getAlias({ name: names.jav }));
    const init = await runSync(w, ['--init'], APP_FIELDS_ENV);
    expect(init.summary).toMatchObject({ mode: 'init', created: [] });
    expect(Object.keys(await w.es.indices.getAlias({ name: names.jav }))).toEqual(behind);
  });
});

describe('es-sync --init on an empty cluster', () => {
  const prefix = () => `${w.prefix}fresh_`;
  const behind = async (name: string) => Object.keys(await w.es.indices.getAlias({ name }));

  it("creates Tally's three indices behind their names, then only what goes missing", async () => {
    const r = await runSync(w, ['--init'], { ES_INDEX_PREFIX: prefix() });
    expect(r.code).toBe(0);
    expect(r.summary).toMatchObject({ mode: 'init', created: ['jav', 'actors', 'tags'].map((i) => `${prefix()}${i}`), kept: [] });
    const [jav] = await behind(`${prefix()}jav`);
    expect((await w.es.count({ index: `${prefix()}jav` })).count).toBe(300);
    expect(Object.values(await w.es.indices.getMapping({ index: `${prefix()}tags` }))[0]!.mappings._meta).toEqual({
      managed_by: 'tally-es-sync',
    });

    // The tags index goes away: the next --init rebuilds it and leaves jav exactly as it was.
    const [tags] = await behind(`${prefix()}tags`);
    await w.es.indices.delete({ index: tags! });
    const again = await runSync(w, ['--init'], { ES_INDEX_PREFIX: prefix() });
    expect(again.summary).toMatchObject({ created: [`${prefix()}tags`], kept: [`${prefix()}jav`, `${prefix()}actors`] });
    expect(await behind(`${prefix()}jav`)).toEqual([jav]);
    expect((await behind(`${prefix()}tags`))[0]).not.toBe(tags);
  });
});
