import { effectOf, featuredKeysToDelete, stateEffectOf } from './handler';
import { appKeys } from '@tally/layout';

describe('counting rules', () => {
  const v = { event_id: 'E1', jav_id: 42, is_bot: false, user_id: 7, occurred_at: 1_700_000_000_123 };
  it('counts views and downloads; ignores bots and events without a count', () => {
    expect(effectOf('movie.viewed', '7', v)).toEqual({ offset: '7', eventId: 'E1', metric: 'views', javId: 42, delta: 1 });
    expect(effectOf('movie.downloaded', '7', v)?.metric).toBe('downloads');
    expect(effectOf('movie.viewed', '7', { ...v, is_bot: true })).toBeUndefined();
    expect(effectOf('movie.rated', '7', v)).toBeUndefined();
    expect(effectOf('movie.liked', '7', v)).toBeUndefined();
  });

  it('does not count a repeat view (VIEW_DEDUP_WINDOW), and counts a view flagged otherwise', () => {
    expect(effectOf('movie.viewed', '7', { ...v, repeat_view: true })).toBeUndefined();
    expect(effectOf('movie.viewed', '7', { ...v, repeat_view: false })).toMatchObject({ metric: 'views', delta: 1 });
  });

  it('turns likes, ratings and watchlist changes into per-user states ranked by occurred_at and event id; guests and bots have none', () => {
    expect(stateEffectOf('movie.liked', '3', v)).toEqual({
      offset: '3',
      facet: 'like',
      kind: 'flag',
      metrics: ['likes'],
      javId: 42,
      userId: 7,
      value: 1,
      at: v.occurred_at,
      eventId: 'e1',
    });
    expect(stateEffectOf('movie.rated', '3', { ...v, rating: 4 })).toMatchObject({
      facet: 'rating',
      kind: 'rating',
      metrics: ['rating_count', 'rating_sum'],
      value: 4,
    });
    expect(stateEffectOf('movie.watchlisted', '3', v)).toMatchObject({
      facet: 'watchlist',
      kind: 'flag',
      metrics: ['watchlists'],
      value: 1,
    });
    expect(stateEffectOf('movie.unwatchlisted', '3', v)).toMatchObject({ facet: 'watchlist', value: 0 });
    expect(stateEffectOf('movie.unliked', '3', v)).toMatchObject({ facet: 'like', value: 0 });
    expect(stateEffectOf('movie.liked', '3', { ...v, user_id: null })).toBeUndefined();
    expect(stateEffectOf('movie.liked', '3', { ...v, is_bot: true })).toBeUndefined();
    expect(stateEffectOf('movie.viewed', '3', v)).toBeUndefined();
  });

  it('invalidates the list and the group, and the old group on a move, under the app prefix', () => {
    expect(featuredKeysToDelete({ group: 'home' })).toEqual(['jav:featured:all', 'jav:featured:group:home']);
    expect(featuredKeysToDelete({ group: 'home', previous_group: 'trending' })).toEqual([
      'jav:featured:all',
      'jav:featured:group:home',
      'jav:featured:group:trending',
    ]);
    expect(featuredKeysToDelete({ group: 'home', previous_group: 'home' })).toHaveLength(2);
    expect(featuredKeysToDelete({ group: 'home' }, appKeys('shop:'))).toEqual(['shop:featured:all', 'shop:featured:group:home']);
  });
});
