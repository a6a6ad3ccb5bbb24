import { DEMO_MAPPING, parseCatalogMapping } from '@tally/catalog';
import { loadEsSyncConfig, searchTarget } from './config';
import { countsUpdate, movieDocument } from './handler';
import { aliasName, mappingsFor, TALLY_META } from './indices';
import { concreteIndex, isTallyHolder, planRebuild, type Holder } from './ownership';
import { DEFAULT_SEARCH_TARGET } from './target';

const at = new Date('2026-11-26T15:30:00.123Z');
const tallyIdx = (name: string) => concreteIndex(name, { _meta: { ...TALLY_META }, properties: { views: {} } });
const appIdx = (name: string) => concreteIndex(name, { properties: { dvd_id: {}, view_count: {} } });
const none = (name: string): Holder => ({ kind: 'none', name });
const ours: Holder = { kind: 'alias', name: 'tags', indices: [tallyIdx('tags_v1')] };
const appIndex: Holder = { kind: 'index', name: 'jav', indices: [appIdx('jav')] };
const appAlias: Holder = { kind: 'alias', name: 'actors', indices: [appIdx('actors_3')] };

describe('ownership', () => {
  it('is decided by the _meta marker, not by the name', () => {
    expect(isTallyHolder({ kind: 'alias', name: 'jav', indices: [tallyIdx('jav_v20261126t153000123z')] })).toBe(true);
    // Named like one of Tally's versioned indices, but without the marker: foreign.
    expect(isTallyHolder({ kind: 'alias', name: 'jav', indices: [appIdx('jav_v20261126t153000123z')] })).toBe(false);
    // One foreign index behind the alias makes the whole name foreign.
    expect(isTallyHolder({ kind: 'alias', name: 'jav', indices: [tallyIdx('jav_v1'), appIdx('jav_old')] })).toBe(false);
    expect(isTallyHolder(none('jav'))).toBe(false);
  });

  it('every index es-sync builds carries the marker', () => {
    for (const m of Object.values(mappingsFor(DEFAULT_SEARCH_TARGET.movies.countFields)))
      expect(m._meta).toEqual({ managed_by: 'tally-es-sync' });
  });
});

describe('planRebuild', () => {
  const holders = (jav: Holder, actors: Holder, tags: Holder) => [
    { index: 'jav' as const, holder: jav },
    { index: 'actors' as const, holder: actors },
    { index: 'tags' as const, holder: tags },
  ];

  it('--reindex refuses a foreign name, naming it and --take-over, before anything is built', () => {
    expect(() => planRebuild(holders(appIndex, appAlias, ours), 'reindex', false, at)).toThrow(
      /^--reindex refused: jav \(a concrete index; it would be kept as jav_pre_tally_20261126t153000123z\); actors \(an alias over actors_3.*run `es-sync --reindex --take-over`\.$/,
    );
  });

  it("--reindex replaces Tally's own and creates the missing", () => {
    expect(planRebuild(holders(none('jav'), ours, ours), 'reindex', false, at).map((s) => s.action)).toEqual([
      'create',
      'replace',
      'replace',
    ]);
  });

  it("--take-over keeps a foreign concrete index as a pre-Tally copy and a foreign alias's indices as they are", () => {
    expect(planRebuild(holders(appIndex, appAlias, ours), 'reindex', true, at)).toEqual([
      { index: 'jav', name: 'jav', action: 'take-over-index', copy: 'jav_pre_tally_20261126t153000123z' },
      { index: 'actors', name: 'actors', action: 'take-over-alias', keep: ['actors_3'] },
      { index: 'tags', name: 'tags', action: 'replace', holder: ours },
    ]);
  });

  it("--init builds only names nothing holds, Tally's or not", () => {
    expect(planRebuild(holders(appIndex, none('actors'), ours), 'init', false, at).map((s) => s.action)).toEqual([
      'keep',
      'create',
      'keep',
    ]);
  });
});

describe('count fields', () => {
  const search = (countFields: Record<string, unknown>) => parseCatalogMapping({ search: { movies: { countFields } } }).search;

  it("default: today's names; a mapped field replaces it in updates, documents and the mapping; null writes nothing", () => {
    expect(searchTarget(DEMO_MAPPING.search).movies.countFields).toEqual({ views: 'views', downloads: 'downloads', likes: 'likes' });
    const target = searchTarget(search({ views: 'view_count', likes: null }));
    expect(target.movies.countFields).toEqual({ views: 'view_count', downloads: 'downloads', likes: null });
    expect(aliasName('t_', 'jav', target)).toBe('t_jav');
    const row = { id: 1, views: 5, downloads: 2, likes: 9, counts_updated_at: at };
    // A foreign index (stamp off): the count fields and nothing else.
    expect(countsUpdate(row, target.movies.countFields, false).doc).toEqual({ view_count: 5, downloads: 2 });
    expect(countsUpdate(row, target.movies.countFields).doc).toEqual({ view_count: 5, downloads: 2, counts_updated_at: at });
    const doc = movieDocument(
      { ...row, code: 'A-1', title: 'T', provider: 'P', release_date: null },
      [],
      [],
      target.movies.countFields,
    ).doc;
    expect(Object.keys(doc).sort()).toEqual(Object.keys(mappingsFor(target.movies.countFields).jav.properties!).sort());
    expect(doc).not.toHaveProperty('likes');
  });

  it("refuses a dotted field, a field shared by two counts, and one of es-sync's own fields, naming the mapping path", () => {
    expect(() => search({ views: 'stats.views' })).toThrow(/search\.movies\.countFields\.views: must be a top-level field name/);
    expect(() => searchTarget(search({ views: 'n', likes: 'n' }))).toThrow(
      /search\.movies\.countFields\.likes: "n" is already the field of search\.movies\.countFields\.views/,
    );
    expect(() => searchTarget(search({ downloads: 'title' }))).toThrow(
      /search\.movies\.countFields\.downloads: "title" is a field es-sync's own movie index uses/,
    );
    expect(loadEsSyncConfig({}).ES_INDEX_PREFIX).toBe('');
  });
});
