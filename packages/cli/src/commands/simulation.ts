import type { TallyEvent } from '@tally/sdk';
import { DEFAULT_BOT_SHARE, VisitorFactory, type Visitor } from './visitors';
import { ZipfPicker } from './zipf-picker';

export { ZipfPicker };

/** What the simulated site has: ids that exist in the catalog, so the pipeline's joins find them. */
export interface Catalog {
  movieIds: number[];
  actorIds: number[];
  tagIds: number[];
  tagNames: string[];
  userIds: number[];
  /** Featured items to move around (admin changes): id fields as in featured_items. */
  featured: { item_type: 'movie' | 'actor' | 'tag'; item_id: number; group: string; rank: number }[];
}

/** Share of each kind of action on a catalog site (views dominate; admin changes are rare). */
export const TRAFFIC_MIX: readonly [TallyEvent['type'], number][] = [
  ['movie.viewed', 0.5],
  ['movie.downloaded', 0.1],
  ['search.performed', 0.12],
  ['actor.viewed', 0.06],
  ['tag.viewed', 0.05],
  ['movie.liked', 0.05],
  ['movie.unliked', 0.01],
  ['movie.rated', 0.03],
  ['movie.watchlisted', 0.03],
  ['movie.unwatchlisted', 0.01],
  ['recommendation.clicked', 0.035],
  ['featured.item.updated', 0.005],
];

const ZERO_RESULT_SHARE = 0.15;
// The kinds of reason the recommender gives (packages/analytics: `co_viewed:<id>` and `popular`),
// so the dashboard's recommendation panel shows what production would.
const CO_VIEWED_SHARE = 0.7;
const MISSPELLINGS = ['xyzzy', 'qwertyuiop', 'zzzz not a title', 'asdfgh'];
/** Crawlers fetch pages; they do not press like, rate, download, search or click recommendations. */
const CRAWLED_TYPES: ReadonlySet<TallyEvent['type']> = new Set(['movie.viewed', 'actor.viewed', 'tag.viewed']);
/**
 * Visitors on the simulated site. A 10-second burst at 100 ev/s (the quick start) is 1,000 events:
 * 500 visitors make two events each on average (most of them more than one), and the crawler share
 * (3 % of 500 = ~15 crawlers) is a share, not one or two stray visitors.
 */
export const DEFAULT_VISITORS = 500;

export interface TrafficOptions {
  /** Share of visitors that are crawlers, from 0 to 1 (default DEFAULT_BOT_SHARE). */
  botShare?: number;
  visitors?: number;
}

/** What every event of a visitor carries: who, and what a back end forwards about the request. */
type Origin = Pick<Visitor, 'user_id' | 'ip' | 'user_agent'>;

/**
 * Endless realistic traffic over a catalog, deterministic for a given random source: a fixed crowd
 * of visitors (each with its own user agent and ip), each event caused by one of them.
 */
export class TrafficGenerator {
  private readonly movies: ZipfPicker;
  private readonly actors: ZipfPicker;
  private readonly tags: ZipfPicker;
  private readonly visitors: Visitor[];
  private readonly humans: Visitor[];

  constructor(
    private readonly catalog: Catalog,
    private readonly rng: () => number,
    options: TrafficOptions = {},
  ) {
    if (catalog.movieIds.length === 0) throw new Error('the catalog has no movies: seed it first (tally seed)');
    this.movies = new ZipfPicker(catalog.movieIds.length);
    this.actors = new ZipfPicker(Math.max(1, catalog.actorIds.length));
    this.tags = new ZipfPicker(Math.max(1, catalog.tagIds.length));
    const factory = new VisitorFactory(catalog.userIds, rng, options.botShare ?? DEFAULT_BOT_SHARE);
    this.visitors = Array.from({ length: options.visitors ?? DEFAULT_VISITORS }, () => factory.next());
    this.humans = this.visitors.filter((v) => !v.crawler);
  }

  next(): TallyEvent {
    let type = this.type();
    // Only crawlers left (--bot-share 1): they view pages, nothing else.
    if (this.humans.length === 0 && !CRAWLED_TYPES.has(type)) type = 'movie.viewed';
    const crowd = CRAWLED_TYPES.has(type) ? this.visitors : this.humans;
    const { user_id, ip, user_agent } = crowd[Math.floor(this.rng() * crowd.length)]!;
    const who: Origin = { user_id, ip, user_agent };
    const jav_id = this.catalog.movieIds[this.movies.index(this.rng())]!;
    switch (type) {
      case 'movie.rated':
        return { type, ...who, jav_id, rating: 1 + Math.floor(this.rng() * 5) };
      case 'actor.viewed':
        return this.catalog.actorIds.length > 0
          ? { type, ...who, actor_id: this.catalog.actorIds[this.actors.index(this.rng())]! }
          : { type: 'movie.viewed', ...who, jav_id };
      case 'tag.viewed':
        return this.catalog.tagIds.length > 0
          ? { type, ...who, tag_id: this.catalog.tagIds[this.tags.index(this.rng())]! }
          : { type: 'movie.viewed', ...who, jav_id };
      case 'search.performed':
        return this.search(who);
      case 'recommendation.clicked':
        return {
          type,
          ...who,
          jav_id,
          reason: this.rng() < CO_VIEWED_SHARE ? `co_viewed:${this.catalog.movieIds[this.movies.index(this.rng())]!}` : 'popular',
        };
      case 'featured.item.updated': {
        const f = this.catalog.featured[Math.floor(this.rng() * this.catalog.featured.length)];
        if (!f) return { type: 'movie.viewed', ...who, jav_id };
        // An admin's change: the admin is named by admin_user_id, the request came from their browser.
        return {
          type,
          ip,
          user_agent,
          user_id: null,
          item_type: f.item_type,
          item_id: f.item_id,
          group: f.group,
          rank: Math.floor(this.rng() * 10),
          active: true,
          expires_at: null,
          admin_user_id: this.catalog.userIds[0] ?? 1,
          previous_group: f.group,
        };
      }
      default:
        return { type, ...who, jav_id } as TallyEvent;
    }
  }

  private type(): TallyEvent['type'] {
    let u = this.rng();
    for (const [t, w] of TRAFFIC_MIX) if ((u -= w) < 0) return t;
    return 'movie.viewed';
  }

  private search(who: Origin): TallyEvent {
    const entity = this.rng();
    const entity_type = entity < 0.7 ? 'movie' : entity < 0.85 ? 'actor' : 'tag';
    if (this.rng() < ZERO_RESULT_SHARE) {
      return {
        type: 'search.performed',
        ...who,
        query: MISSPELLINGS[Math.floor(this.rng() * MISSPELLINGS.length)]!,
        filters: {},
        entity_type,
        result_count: 0,
      };
    }
    const tag = this.catalog.tagNames[this.tags.index(this.rng()) % Math.max(1, this.catalog.tagNames.length)] ?? 'new';
    const filters: Record<string, string> = this.rng() < 0.3 ? { sort: this.rng() < 0.5 ? 'popular' : 'newest' } : {};
    return { type: 'search.performed', ...who, query: tag, filters, entity_type, result_count: 1 + Math.floor(this.rng() * 200) };
  }
}
