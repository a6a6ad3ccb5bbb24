import { main } from './bin';

describe('main (usage errors never open a connection)', () => {
  it('exits with 2 and prints the reason and the usage', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(['seed', '--movies', 'lots'], (l: string) => out.push(l), (l: string) => err.push(l));
    expect(code).toBe(2);
    expect(out).toEqual([]);
    expect(err.join('\n')).toMatch(/^--movies must be a positive whole number .*got "lots"\nusage:/);
  });
});
