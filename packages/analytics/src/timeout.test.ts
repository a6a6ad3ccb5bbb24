import { withTimeout } from './timeout';

describe('withTimeout', () => {
  it('passes a prompt answer through', async () => {
    await expect(withTimeout(Promise.resolve(4), 1_000, 'x')).resolves.toBe(4);
  });
  it('rejects with MONGO_TIMEOUT when the read hangs, and swallows the late rejection', async () => {
    let reject!: (e: Error) => void;
    const hanging = new Promise<number>((_, r) => (reject = r));
    await expect(withTimeout(hanging, 20, 'dashboard read')).rejects.toMatchObject({ code: 'MONGO_TIMEOUT', retriable: true });
    reject(new Error('server selection timed out')); // must not become an unhandled rejection
  });
});
