import { sampleEvents, topicNames } from '@tally/events';
import { eventValidator, INVALID_PAYLOAD } from './event-validation';

const samples = sampleEvents();

describe('eventValidator', () => {
  const validate = eventValidator(topicNames('t_abc.'));

  it('accepts a valid value of the topic’s type and returns it tagged', () => {
    const r = validate('t_abc.movie.rated', samples['movie.rated']);
    expect(r).toEqual({ ok: true, value: { type: 'movie.rated', payload: samples['movie.rated'] } });
  });

  it('refuses domain-rule violations with the field errors joined', () => {
    const r = validate('t_abc.movie.rated', { ...samples['movie.rated'], rating: 9, jav_id: -1 });
    expect(r).toEqual({
      ok: false,
      reason: 'invalid_payload',
      detail: 'jav_id must be a positive integer; rating must be an integer from 1 to 5',
    });
  });

  it('refuses a topic that is not an event topic under the prefix', () => {
    const r = validate('tally.movie.rated', samples['movie.rated']);
    expect(r).toMatchObject({ ok: false, reason: 'unknown_topic' });
  });

  it('with a list of types, refuses the topics of other types (a consumer reads only its own)', () => {
    const history = eventValidator(topicNames('t_abc.'), ['movie.viewed', 'movie.downloaded']);
    expect(history('t_abc.movie.viewed', samples['movie.viewed'])).toEqual({
      ok: true,
      value: { type: 'movie.viewed', payload: samples['movie.viewed'] },
    });
    expect(history('t_abc.movie.rated', samples['movie.rated'])).toMatchObject({ ok: false, reason: 'unknown_topic' });
  });

  it('refuses a value that is not a record of the type with the one reason', () => {
    expect(validate('t_abc.movie.viewed', 'not an event')).toMatchObject({ ok: false, reason: INVALID_PAYLOAD });
    expect(INVALID_PAYLOAD).toBe('invalid_payload');
  });
});
