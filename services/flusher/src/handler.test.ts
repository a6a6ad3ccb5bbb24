import { chunks, insertDeltasSql, metricsIn, parseFlushHash as parseFlat, realignArgs } from './handler';

// The tests write a hash as its pairs; the flusher gets it flat, as HSCAN returns it.
const parseFlushHash = (pairs: [string, string][]) => parseFlat(pairs.flat());

const none = { rating_count: 0, rating_sum: 0, watchlists: 0 };

describe('parseFlushHash', () => {
  it('sums the metrics of one movie into one row, ascending ids, and keeps the covered offsets', () => {
    const p = parseFlushHash([
      ['views:20', '3'],
      ['likes:20', '-2'],
      ['downloads:7', '1'],
      ['views:7', '0'],
      ['off:t_x.tally.movie.viewed:0', '41'],
      ['off:t_x.tally.movie.liked:11', '9007199254740993'],
    ]);
    expect(p.movies).toEqual([
      { id: 7, views: 0, downloads: 1, likes: 0, ...none },
      { id: 20, views: 3, downloads: 0, likes: -2, ...none },
    ]);
    expect(p.offsets).toEqual([
      { topic: 't_x.tally.movie.viewed', partition: 0, offset: '41' },
      // int64 offsets survive beyond 2^53: they stay strings.
      { topic: 't_x.tally.movie.liked', partition: 11, offset: '9007199254740993' },
    ]);
    expect(p.malformed).toEqual([]);
  });

  it('reads the per-user states the deltas came from, and refuses malformed ones', () => {
    const p = parseFlushHash([
      ['state:like:5:42', '1764000000123|0b6c0f5e-1c2a-4c55-9d7e-0a1b2c3d4e5f|1'],
      ['state:rating:5:42', '1764000000124||4'],
      ['state:like:5', '1|x|1'],
      ['state:shares:5:1', '1||1'],
      ['state:like:5:1', 'soon'],
    ]);
    expect(p.states).toEqual([
      { facet: 'like', javId: 5, userId: 42, at: 1764000000123, eventId: '0b6c0f5e-1c2a-4c55-9d7e-0a1b2c3d4e5f', value: 1 },
      { facet: 'rating', javId: 5, userId: 42, at: 1764000000124, eventId: null, value: 4 },
    ]);
    expect(p.malformed.sort()).toEqual(['state:like:5', 'state:like:5:1', 'state:shares:5:1']);
  });

  it('keeps a zero-delta field for re-alignment but sends no SQL for a movie whose deltas all cancel out', () => {
    const p = parseFlushHash([
      ['likes:5', '0'],
      ['views:6', '0'],
    ]);
    expect(p.movies).toEqual([]);
    expect(p.fields).toEqual([
      { metric: 'likes', id: 5 },
      { metric: 'views', id: 6 },
    ]);
  });

  it('counts a field HSCAN returned twice once, and keeps a differently written id apart', () => {
    const p = parseFlushHash([
      ['views:3', '2'],
      ['off:t:0', '9'],
      ['views:3', '2'],
      ['views:03', '5'],
      ['off:t:0', '9'],
      ['state:like:3:1', '1||1'],
      ['state:like:3:1', '1||1'],
    ]);
    expect(p.movies).toEqual([{ id: 3, views: 7, downloads: 0, likes: 0, ...none }]);
    expect(p.fields).toEqual([
      { metric: 'views', id: 3 },
      { metric: 'views', id: 3 },
    ]);
    expect(p.offsets).toHaveLength(1);
    expect(p.states).toHaveLength(1);
  });

  it('reads deltas up to the largest safe integer, negative and zero included', () => {
    const p = parseFlushHash([
      ['views:1', '9007199254740991'],
      ['likes:1', '-9007199254740991'],
      ['downloads:1', '-0'],
      ['views:2', '9007199254740992'],
      ['views:3', '-'],
      ['views:4', '+1'],
      ['views:5', ''],
    ]);
    expect(p.movies).toEqual([{ id: 1, views: 9007199254740991, downloads: 0, likes: -9007199254740991, ...none }]);
    expect(p.malformed.sort()).toEqual(['views:2', 'views:3', 'views:4', 'views:5']);
  });

  it('reports malformed fields instead of applying or throwing', () => {
    const p = parseFlushHash([
      ['views:1', '1.5'],
      ['shares:2', '1'],
      ['views:x', '1'],
      ['views:0', '1'],
      ['views:3', '99999999999999999999'],
      ['off:nopartition', '3'],
      ['off:t:1', '-1'],
      ['views:4', '2'],
    ]);
    expect(p.malformed.sort()).toEqual(['off:nopartition', 'off:t:1', 'shares:2', 'views:0', 'views:1', 'views:3', 'views:x'].sort());
    expect(p.movies).toEqual([{ id: 4, views: 2, downloads: 0, likes: 0, ...none }]);
  });
});

describe('SQL and script arguments', () => {
  it('builds one multi-row INSERT of integers', () => {
    expect(
      insertDeltasSql('t', [
        { id: 1, views: 2, downloads: 0, likes: -1, ...none, rating_sum: 5 },
        { id: 9, views: 0, downloads: 4, likes: 0, ...none },
      ]),
    ).toBe('INSERT INTO t (id, views, downloads, likes, rating_count, rating_sum, watchlists) VALUES (1,2,0,-1,0,5,0),(9,0,4,0,0,0,0)');
  });

  it('names only the metrics a chunk moves; the temp table holds 0 for the others', () => {
    const movies = [
      { id: 3, views: 1, downloads: 0, likes: 0, ...none },
      { id: 4, views: 0, downloads: 0, likes: -2, ...none },
    ];
    expect(metricsIn(movies)).toEqual(['views', 'likes']);
    expect(insertDeltasSql('t', movies, metricsIn(movies))).toBe('INSERT INTO t (id, views, likes) VALUES (3,1,0),(4,0,-2)');
    expect(() => insertDeltasSql('t', movies, ['views'])).toThrow(/movie 4: likes/);
  });

  it('refuses a non-integer value rather than inlining it', () => {
    expect(() => insertDeltasSql('t', [{ id: 1, views: 0.5, downloads: 0, likes: 0, ...none }])).toThrow(/movie 1/);
  });

  it('chunks without losing or repeating items', () => {
    expect(chunks([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(chunks([], 3)).toEqual([]);
  });

  it('re-aligns to the MySQL value, in the order of the keys', () => {
    const counts = new Map([[1, { views: 10, downloads: 2, likes: 3, ...none }]]);
    const r = realignArgs(
      [
        { metric: 'views', id: 1 },
        { metric: 'likes', id: 8 },
      ],
      (f) => counts.get(f.id)?.[f.metric] ?? 0,
      (f) => `jav:${f.metric}:${f.id}`,
      (f) => `${f.metric}:${f.id}`,
    );
    expect(r).toEqual({ keys: ['jav:views:1', 'jav:likes:8'], pendingFields: 'views:1,likes:8', values: '10,0' });
  });
});
