import { effectOf, featuredKeysToDelete } from './handler';

describe('counting rules', () => {
  const v = { event_id: 'e1', jav_id: 42, is_bot: false };
  it('counts views, downloads, likes and unlikes; ignores bots and other events', () => {
    expect(effectOf('movie.viewed', '7', v)).toEqual({ offset: '7', eventId: 'e1', metric: 'views', javId: 42, delta: 1 });
    expect(effectOf('movie.downloaded', '7', v)?.metric).toBe('downloads');
    expect(effectOf('movie.liked', '7', v)).toMatchObject({ metric: 'likes', delta: 1 });
    expect(effectOf('movie.unliked', '7', v)).toMatchObject({ metric: 'likes', delta: -1 });
    expect(effectOf('movie.viewed', '7', { ...v, is_bot: true })).toBeUndefined();
    expect(effectOf('movie.rated', '7', v)).toBeUndefined();
  });

  it('does not count a repeat view (VIEW_DEDUP_WINDOW), and counts a view flagged otherwise', () => {
    expect(effectOf('movie.viewed', '7', { ...v, repeat_view: true })).toBeUndefined();
    expect(effectOf('movie.viewed', '7', { ...v, repeat_view: false })).toMatchObject({ metric: 'views', delta: 1 });
  });

  it('invalidates the list and the group, and the old group on a move', () => {
    expect(featuredKeysToDelete({ group: 'home' })).toEqual(['jav:featured:all', 'jav:featured:group:home']);
    expect(featuredKeysToDelete({ group: 'home', previous_group: 'trending' })).toEqual(['jav:featured:all', 'jav:featured:group:home', 'jav:featured:group:trending']);
    expect(featuredKeysToDelete({ group: 'home', previous_group: 'home' })).toHaveLength(2);
  });
});
