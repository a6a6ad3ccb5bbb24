import { Catalog, DEMO_CATALOG, parseCatalogMapping } from '@tally/catalog';
import { baseConfigSchema, loadConfig } from '@tally/config';
import { createTempDatabase, migrateLatest, type TempDatabase } from '@tally/db';
import { buildRecommendations, hitRates, type RecommendationBuild } from './recommendations';

// The build against a real history small enough to work out by hand:
//   users 1–4 watched 1, 2, 3 (3 newest); user 5 watched 1, 2 (2 newest); user 6 watched 4 and
//   liked 1 without watching it; user 7 watched 1, 5 forty days ago (inactive).
const { MYSQL_URL } = loadConfig(baseConfigSchema);
const NOW = new Date('2026-06-01T00:00:00Z');
const hoursAgo = (h: number) => new Date(NOW.getTime() - h * 3_600_000);
let t: TempDatabase;

const list = (b: RecommendationBuild, user: number) => b.users.find((u) => u.user_id === user)?.items;

beforeAll(async () => {
  t = await createTempDatabase(MYSQL_URL);
  await migrateLatest(t.db);
  const rows: [number, number, Date][] = [];
  for (const u of [1, 2, 3, 4]) rows.push([u, 1, hoursAgo(3)], [u, 2, hoursAgo(2)], [u, 3, hoursAgo(1)]);
  rows.push([5, 1, hoursAgo(5)], [5, 2, hoursAgo(1)], [6, 4, hoursAgo(1)], [7, 1, hoursAgo(961)], [7, 5, hoursAgo(960)]);
  await t.db('user_jav_history').insert(rows.map(([user_id, jav_id, at]) => ({ user_id, jav_id, view_count: 1, last_viewed_at: at })));
  await t.db('user_interactions').insert({ user_id: 6, jav_id: 1, liked: 1 });
});
afterAll(() => t.drop());

describe('buildRecommendations', () => {
  it('lists active users only, never a seen or liked movie, co-occurrence first with exact scores', async () => {
    const b = await buildRecommendations(t.db, DEMO_CATALOG, NOW);
    expect(b.users.map((u) => u.user_id)).toEqual([1, 2, 3, 4, 5, 6]);
    // sim(1, 3) = 4 / √(6 users of 1 · Σw 4) and sim(2, 3) = 4 / √(5 · 4), each rounded to 12 decimals;
    // inactive user 7 gets no list but still counts: sim(1, 5) = 1 / √(6 · 1).
    expect(list(b, 5)).toEqual([
      { jav_id: 3, score: 1.710923771928, reason: 'co_viewed:2' },
      { jav_id: 5, score: 0.408248290464, reason: 'co_viewed:1' },
      { jav_id: 4, score: 0, reason: 'popular' },
    ]);
    // Popularity 1 > 2 > 3 > 4 = 5 (lower id first); 1 is liked and 4 watched.
    expect(list(b, 6)!.map((i) => [i.jav_id, i.reason])).toEqual([
      [2, 'popular'],
      [3, 'popular'],
      [5, 'popular'],
    ]);
    expect(await buildRecommendations(t.db, DEMO_CATALOG, NOW)).toEqual(b);
  });

  it('with the holdout, the newest view of each user with two or more leaves all the data and is found again', async () => {
    const b = await buildRecommendations(t.db, DEMO_CATALOG, NOW, { holdout: true });
    expect([...b.holdout!.entries()].map(([u, h]) => [u, h.jav_id])).toEqual([
      [1, 3],
      [2, 3],
      [3, 3],
      [4, 3],
      [5, 2],
      [7, 5],
    ]);
    // Without the held-out views nobody has 3 or 5: user 5 (seen: 1) gets 2 back, sim(1, 2) = 4 / √(6 · 4).
    expect(list(b, 5)).toEqual([
      { jav_id: 2, score: 0.816496580928, reason: 'co_viewed:1' },
      { jav_id: 4, score: 0, reason: 'popular' },
    ]);
    expect(hitRates(b)).toMatchObject({ users: 6, hit_rate: 0.1667 });
  });

  it('an app history without a last-viewed column: every user is active and nothing is held out', async () => {
    const undated = new Catalog(parseCatalogMapping({ history: { columns: { lastViewedAt: null } } }));
    expect((await buildRecommendations(t.db, undated, NOW)).users.map((u) => u.user_id)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect((await buildRecommendations(t.db, undated, NOW, { holdout: true })).holdout!.size).toBe(0);
  });
});
