import crawlerUserAgents from 'crawler-user-agents';
import topUserAgents from 'top-user-agents';
import { ZipfPicker } from './zipf-picker';

/** Someone (or something) browsing the simulated site; every event it causes carries these. */
export interface Visitor {
  /** users.id when signed in, null for a guest. Crawlers never sign in. */
  user_id: number | null;
  /** The browser's (or crawler's) User-Agent, the same for every event of this visitor. */
  user_agent: string;
  /** A documentation address (2001:db8::/32, RFC 3849): unique per visitor, never a real host. */
  ip: string;
  crawler: boolean;
}

/** Default share of visitors that are crawlers: a few percent, enough to show up, not to dominate. */
export const DEFAULT_BOT_SHARE = 0.03;
/** Share of human visitors who browse without signing in. */
export const GUEST_SHARE = 0.4;
// About 60 % of page views worldwide come from phones (StatCounter, 2025); a catalog site is no less mobile.
const MOBILE_SHARE = 0.6;
const MOBILE = /Android|iPhone|iPad|Mobile/;

/**
 * Crawlers a public catalog sees most, with rough shares of crawler hits (Google's and Bing's search
 * crawlers first, then SEO and AI crawlers). Example strings come from the crawler-user-agents list.
 */
export const CRAWLERS: readonly [token: string, weight: number][] = [
  ['Googlebot/', 0.4],
  ['bingbot/', 0.2],
  ['AhrefsBot/', 0.08],
  ['SemrushBot', 0.07],
  ['YandexBot/', 0.06],
  ['Applebot/', 0.06],
  ['GPTBot/', 0.05],
  ['Baiduspider', 0.04],
  ['DuckDuckBot', 0.04],
];

interface UserAgentPools {
  desktop: string[];
  mobile: string[];
  crawlers: { weight: number; userAgents: string[] }[];
}

let pools: UserAgentPools | undefined;

/**
 * Browser user agents from top-user-agents (the 100 most common ones, most common first, refreshed
 * with each release: hand-written strings would age by a browser version every four weeks), split
 * by device; crawler user agents from crawler-user-agents' real examples of each crawler in CRAWLERS.
 */
export function userAgentPools(): UserAgentPools {
  if (pools) return pools;
  const crawlers = CRAWLERS.map(([token, weight]) => {
    const userAgents = [...new Set(crawlerUserAgents.flatMap((c) => c.instances.filter((ua) => ua.includes(token))))];
    if (userAgents.length === 0) throw new Error(`crawler-user-agents has no example of ${token}`);
    return { weight, userAgents };
  });
  pools = { desktop: topUserAgents.filter((ua) => !MOBILE.test(ua)), mobile: topUserAgents.filter((ua) => MOBILE.test(ua)), crawlers };
  return pools;
}

/** New visitors, deterministic for a given random source: humans on common browsers, a share of crawlers. */
export class VisitorFactory {
  private readonly pools = userAgentPools();
  // The lists carry ranks but no counts; 1/rank^0.8 keeps the current versions at the head common
  // and older ones at the tail present, as in real traffic.
  private readonly desktop = new ZipfPicker(this.pools.desktop.length, 0.8);
  private readonly mobile = new ZipfPicker(this.pools.mobile.length, 0.8);

  constructor(
    private readonly userIds: readonly number[],
    private readonly rng: () => number,
    private readonly botShare = DEFAULT_BOT_SHARE,
  ) {
    if (!(botShare >= 0 && botShare <= 1)) throw new RangeError(`bot share must be from 0 to 1, not ${botShare}`);
  }

  next(): Visitor {
    if (this.rng() < this.botShare) return { user_id: null, user_agent: this.crawlerUserAgent(), ip: this.ip(), crawler: true };
    const signedIn = this.userIds.length > 0 && this.rng() >= GUEST_SHARE;
    const user_id = signedIn ? this.userIds[Math.floor(this.rng() * this.userIds.length)]! : null;
    const user_agent =
      this.rng() < MOBILE_SHARE ? this.pools.mobile[this.mobile.index(this.rng())]! : this.pools.desktop[this.desktop.index(this.rng())]!;
    return { user_id, user_agent, ip: this.ip(), crawler: false };
  }

  private crawlerUserAgent(): string {
    let u = this.rng();
    const family = this.pools.crawlers.find((c) => (u -= c.weight) < 0) ?? this.pools.crawlers[0]!;
    return family.userAgents[Math.floor(this.rng() * family.userAgents.length)]!;
  }

  private ip(): string {
    const group = () => Math.floor(this.rng() * 0x10000).toString(16);
    // Distinct in the first 48 bits too, so visitors stay apart when the ingest API anonymizes to a /48.
    return `2001:db8:${group()}::${group()}:${group()}`;
  }
}
