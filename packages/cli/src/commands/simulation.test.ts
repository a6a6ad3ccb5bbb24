import { mulberry32 } from '@tally/db';
import { TrafficGenerator, ZipfPicker, type Catalog } from './simulation';

const catalog: Catalog = {
  movieIds: Array.from({ length: 1000 }, (_, i) => 101 + i),
  actorIds: [1, 2, 3, 4, 5],
  tagIds: [10, 11, 12],
  tagNames: ['drama', 'comedy', 'classic'],
  userIds: Array.from({ length: 50 }, (_, i) => 1 + i),
  featured: [{ item_type: 'movie', item_id: 101, group: 'home', rank: 0 }],
};

function sample(n: number) {
  const g = new TrafficGenerator(catalog, mulberry32(7));
  return Array.from({ length: n }, () => g.next());
}

describe('ZipfPicker', () => {
  it('picks every index in range and favours the head', () => {
    const z = new ZipfPicker(100);
    expect(z.index(0)).toBe(0);
    expect(z.index(0.999999)).toBe(99);
    const rng = mulberry32(1);
    const hits = new Array<number>(100).fill(0);
    for (let i = 0; i < 20_000; i++) hits[z.index(rng())]! += 1;
    expect(hits[0]!).toBeGreaterThan(hits[9]! * 5);
    expect(hits.slice(0, 10).reduce((a, b) => a + b)).toBeGreaterThan(10_000);
  });
});

describe('TrafficGenerator', () => {
  const events = sample(20_000);

  it('produces every kind of event the site sends, featured changes rarely', () => {
    const types = new Map<string, number>();
    for (const e of events) types.set(e.type, (types.get(e.type) ?? 0) + 1);
    for (const t of [
      'movie.viewed',
      'movie.downloaded',
      'movie.rated',
      'movie.liked',
      'movie.unliked',
      'movie.watchlisted',
      'movie.unwatchlisted',
      'actor.viewed',
      'tag.viewed',
      'search.performed',
      'recommendation.clicked',
      'featured.item.updated',
    ]) {
      expect(types.get(t) ?? 0).toBeGreaterThan(0);
    }
    expect(types.get('featured.item.updated')!).toBeLessThan(events.length / 100);
  });

  it('popular movies follow a long tail: the top 10 % of movies get most views', () => {
    const views = new Map<number, number>();
    for (const e of events) if (e.type === 'movie.viewed') views.set(e.jav_id, (views.get(e.jav_id) ?? 0) + 1);
    const sorted = [...views.values()].sort((a, b) => b - a);
    const total = sorted.reduce((a, b) => a + b);
    expect(sorted.slice(0, 100).reduce((a, b) => a + b, 0) / total).toBeGreaterThan(0.5);
    expect(views.size).toBeGreaterThan(300); // and the tail is still visited
  });

  it('mixes guests and logged-in users, and some searches find nothing', () => {
    const guests = events.filter((e) => e.user_id === null).length / events.length;
    expect(guests).toBeGreaterThan(0.3);
    expect(guests).toBeLessThan(0.5);
    const searches = events.filter((e) => e.type === 'search.performed');
    const zero = searches.filter((e) => e.type === 'search.performed' && e.result_count === 0).length;
    expect(zero).toBeGreaterThan(0);
    expect(zero).toBeLessThan(searches.length);
  });

  it('only uses ids from the catalog and valid field values', () => {
    for (const e of events) {
      if ('jav_id' in e) expect(catalog.movieIds).toContain(e.jav_id);
      if (e.type === 'movie.rated') expect(e.rating >= 1 && e.rating <= 5).toBe(true);
      if (e.user_id !== null && e.user_id !== undefined) expect(catalog.userIds).toContain(e.user_id);
    }
  });

  it('refuses an empty catalog with a message that says what to do', () => {
    expect(() => new TrafficGenerator({ ...catalog, movieIds: [] }, mulberry32(1))).toThrow(/tally seed/);
  });
});
