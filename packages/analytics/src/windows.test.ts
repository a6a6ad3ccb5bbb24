import { compareUtf8, dailySeries, firstDay, topBy, windowStart } from './windows';

describe('windows', () => {
  const now = new Date('2024-03-01T10:30:00.000Z');
  it('rolling windows end at now', () => {
    expect(windowStart(now, '24h').toISOString()).toBe('2024-02-29T10:30:00.000Z');
    expect(windowStart(now, '7d').toISOString()).toBe('2024-02-23T10:30:00.000Z');
    expect(windowStart(now, '30d').toISOString()).toBe('2024-01-31T10:30:00.000Z');
  });
  it('a daily series is `days` UTC dates ending today (leap day included)', () => {
    expect(firstDay(now, 3).toISOString()).toBe('2024-02-28T00:00:00.000Z');
    expect(dailySeries(now, 3)).toEqual(['2024-02-28', '2024-02-29', '2024-03-01']);
    expect(dailySeries(now, 30)).toHaveLength(30);
  });
  it('topBy ranks like ORDER BY count DESC, id ASC and drops zeros', () => {
    const rows = [
      { id: 3, c: 5 },
      { id: 1, c: 5 },
      { id: 2, c: 9 },
      { id: 4, c: 0 },
    ];
    expect(
      topBy(
        rows,
        (r) => r.c,
        (r) => r.id,
        10,
      ).map((r) => r.id),
    ).toEqual([2, 1, 3]);
    expect(
      topBy(
        rows,
        (r) => r.c,
        (r) => r.id,
        2,
      ).map((r) => r.id),
    ).toEqual([2, 1]);
  });
  it('compares strings by UTF-8 bytes, as utf8mb4_bin does', () => {
    expect(['é', 'z', 'Z', 'e'].sort(compareUtf8)).toEqual(['Z', 'e', 'z', 'é']);
  });
});
