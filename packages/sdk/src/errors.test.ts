import { TallyClientError, TallyError } from './index';

describe('TallyClientError', () => {
  it('is still exported as the deprecated TallyError, so instanceof checks of existing users keep working', () => {
    const e = new TallyClientError('unauthorized', 'unknown write key', false, 401, []);
    expect(e).toBeInstanceOf(TallyError);
    expect(new TallyError('unauthorized', 'x', false, 401, [])).toBeInstanceOf(TallyClientError);
    expect(e.name).toBe('TallyClientError');
  });
});
