import { mulberry32 } from '@tally/db';
// The ingest API's own verdict (the function it sets is_bot with), not a copy of its rules.
import { cachedBotDetector } from '@tally/ingest-api/bot-detector';
import { TrafficGenerator, type Catalog } from './simulation';
import { DEFAULT_BOT_SHARE, VisitorFactory, type Visitor } from './visitors';

const isBot = cachedBotDetector();
const USERS = Array.from({ length: 200 }, (_, i) => 1 + i);

function visitors(n: number, botShare: number, seed = 42): Visitor[] {
  const f = new VisitorFactory(USERS, mulberry32(seed), botShare);
  return Array.from({ length: n }, () => f.next());
}

describe('simulated visitors, as the ingest API classifies them', () => {
  it.each([0, DEFAULT_BOT_SHARE, 0.2])(
    'with a bot share of %p, that share of 5,000 visitors is flagged is_bot, and only the crawlers',
    (share) => {
      const crowd = visitors(5_000, share);
      const flagged = crowd.filter((v) => isBot(v.user_agent));
      // Binomial sd at 5,000 visitors is ≤ 0.006 (share 0.2): 0.015 is more than two of them.
      expect(Math.abs(flagged.length / crowd.length - share)).toBeLessThan(0.015);
      // Every browser passes the check and every crawler is caught.
      expect(crowd.filter((v) => isBot(v.user_agent) !== v.crawler)).toEqual([]);
      if (share === DEFAULT_BOT_SHARE)
        process.stdout.write(`measured bot share at ${share}: ${(flagged.length / crowd.length).toFixed(4)}\n`);
    },
  );

  it('browse on a realistic mix: Chrome, Safari, Edge and Firefox, desktop and mobile, many distinct strings', () => {
    const humans = visitors(5_000, DEFAULT_BOT_SHARE).filter((v) => !v.crawler);
    const share = (re: RegExp) => humans.filter((v) => re.test(v.user_agent)).length / humans.length;
    const edge = share(/Edg\//);
    const firefox = share(/Firefox\//);
    const safari = share(/Version\/[\d.]+ (Mobile\/\w+ )?Safari\//);
    const chrome = share(/Chrome\//) - edge - share(/OPR\/|SamsungBrowser\//);
    expect(chrome).toBeGreaterThan(0.4);
    expect(safari).toBeGreaterThan(0.1);
    expect(edge).toBeGreaterThan(0.01);
    expect(firefox).toBeGreaterThan(0.01);
    const mobile = share(/Android|iPhone|iPad|Mobile/);
    expect(mobile).toBeGreaterThan(0.5);
    expect(mobile).toBeLessThan(0.7);
    expect(new Set(humans.map((v) => v.user_agent)).size).toBeGreaterThan(50);
  });

  it('crawlers are several known ones, Googlebot the most common, and never signed in', () => {
    const crawlers = visitors(20_000, 0.5).filter((v) => v.crawler);
    const count = (token: string) => crawlers.filter((v) => v.user_agent.includes(token)).length;
    for (const token of ['Googlebot', 'bingbot', 'YandexBot', 'Applebot', 'GPTBot']) expect(count(token)).toBeGreaterThan(0);
    expect(count('Googlebot')).toBeGreaterThan(count('bingbot'));
    expect(crawlers.every((v) => v.user_id === null)).toBe(true);
  });

  it('refuses a share outside 0..1', () => {
    expect(() => new VisitorFactory(USERS, mulberry32(1), 1.5)).toThrow(/from 0 to 1/);
    expect(() => new VisitorFactory(USERS, mulberry32(1), Number.NaN)).toThrow(/from 0 to 1/);
  });
});

describe('simulated events', () => {
  const catalog: Catalog = {
    movieIds: Array.from({ length: 300 }, (_, i) => 1 + i),
    actorIds: [1, 2, 3],
    tagIds: [1, 2],
    tagNames: ['drama', 'comedy'],
    userIds: USERS,
    featured: [{ item_type: 'movie', item_id: 1, group: 'home', rank: 0 }],
  };
  const events = (botShare: number) => {
    const g = new TrafficGenerator(catalog, mulberry32(9), { botShare });
    return Array.from({ length: 10_000 }, () => g.next());
  };

  it("carry their visitor's user agent and ip; one visitor keeps both (and its user) across events", () => {
    const agents = new Map<string, Set<string>>();
    const users = new Map<string, Set<number | null>>();
    for (const e of events(DEFAULT_BOT_SHARE)) {
      expect(e.user_agent).toEqual(expect.any(String));
      expect(e.ip).toMatch(/^2001:db8:/);
      agents.set(e.ip!, (agents.get(e.ip!) ?? new Set()).add(e.user_agent!));
      // An admin's featured change names the admin in admin_user_id, not user_id.
      if (e.type !== 'featured.item.updated') users.set(e.ip!, (users.get(e.ip!) ?? new Set()).add(e.user_id ?? null));
    }
    expect(agents.size).toBeGreaterThan(400); // most of the 500 visitors, not a handful
    expect([...agents.values()].filter((s) => s.size > 1)).toEqual([]);
    expect([...users.values()].filter((s) => s.size > 1)).toEqual([]);
  });

  it('from crawlers are page views only, about the bot share of them; the rest (likes, ratings, searches, …) come from people', () => {
    const all = events(0.1);
    const bots = all.filter((e) => isBot(e.user_agent!));
    expect(new Set(bots.map((e) => e.type))).toEqual(new Set(['movie.viewed', 'actor.viewed', 'tag.viewed']));
    const views = all.filter((e) => e.type === 'movie.viewed');
    const botViews = views.filter((e) => isBot(e.user_agent!)).length / views.length;
    expect(botViews).toBeGreaterThan(0.05);
    expect(botViews).toBeLessThan(0.15);
  });

  it('with only crawlers, are all page views', () => {
    const all = events(1);
    expect(all.every((e) => isBot(e.user_agent!) && ['movie.viewed', 'actor.viewed', 'tag.viewed'].includes(e.type))).toBe(true);
  });
});
