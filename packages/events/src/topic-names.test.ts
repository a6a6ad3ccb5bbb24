import { topicNames } from './topic-names';
import { EVENT_TYPES } from './generated/events';

describe('topicNames', () => {
  it('keeps the catalog names by default and renames every topic and subject under a prefix', () => {
    const prod = topicNames();
    expect(prod.topicFor('movie.viewed')).toBe('tally.movie.viewed');
    expect(prod.deadLetter).toBe('tally.dead-letter');
    const test = topicNames('t_42.');
    expect(test.topicFor('movie.liked')).toBe('t_42.movie.liked');
    expect(test.subjectFor('movie.liked')).toBe('t_42.movie.liked-value');
    expect(test.eventTypeFor('t_42.search.performed')).toBe('search.performed');
    expect(test.eventTypeFor('tally.search.performed')).toBeUndefined();
    expect(test.deadLetter).toBe('t_42.dead-letter');
    expect(test.eventTopics).toHaveLength(EVENT_TYPES.length);
  });
});
