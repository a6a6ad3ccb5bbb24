import type { TallyEvent } from '@tally/sdk';

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

const GUEST_SHARE = 0.4;
const ZERO_RESULT_SHARE = 0.15;
const REASONS = ['viewed_together', 'liked_together', 'popular'];
const MISSPELLINGS = ['xyzzy', 'qwertyuiop', 'zzzz not a title', 'asdfgh'];

/**
 * Zipf-like rank: index i is chosen with weight 1/(i+1)^s, so the first few movies get most of the
 * traffic and the long tail gets a little each — what popularity looks like on a real catalog.
 */
export class ZipfPicker {
  private readonly cumulative: Float64Array;
  constructor(n: number, s = 1.1) {
    if (n < 1) throw new RangeError('ZipfPicker needs at least one item');
    this.cumulative = new Float64Array(n);
    let sum = 0;
    for (let i = 0; i < n; i++) this.cumulative[i] = sum += 1 / Math.pow(i + 1, s);
    for (let i = 0; i < n; i++) this.cumulative[i]! /= sum;
  }
  /** Index in [0, n) for a uniform u in [0, 1). */
  index(u: number): number {
    let lo = 0;
    let hi = this.cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.cumulative[mid]! > u) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}

/** Endless realistic traffic over a catalog, deterministic for a given random source. */
export class TrafficGenerator {
  private readonly movies: ZipfPicker;
  private readonly actors: ZipfPicker;
  private readonly tags: ZipfPicker;

  constructor(private readonly catalog: Catalog, private readonly rng: () => number) {
    if (catalog.movieIds.length === 0) throw new Error('the catalog has no movies: seed it first (tally seed)');
    this.movies = new ZipfPicker(catalog.movieIds.length);
    this.actors = new ZipfPicker(Math.max(1, catalog.actorIds.length));
    this.tags = new ZipfPicker(Math.max(1, catalog.tagIds.length));
  }

  next(): TallyEvent {
    const type = this.type();
    const user_id = this.catalog.userIds.length > 0 && this.rng() >= GUEST_SHARE ? this.catalog.userIds[Math.floor(this.rng() * this.catalog.userIds.length)]! : null;
    const jav_id = this.catalog.movieIds[this.movies.index(this.rng())]!;
    switch (type) {
      case 'movie.rated':
        return { type, user_id, jav_id, rating: 1 + Math.floor(this.rng() * 5) };
      case 'actor.viewed':
        return this.catalog.actorIds.length > 0 ? { type, user_id, actor_id: this.catalog.actorIds[this.actors.index(this.rng())]! } : { type: 'movie.viewed', user_id, jav_id };
      case 'tag.viewed':
        return this.catalog.tagIds.length > 0 ? { type, user_id, tag_id: this.catalog.tagIds[this.tags.index(this.rng())]! } : { type: 'movie.viewed', user_id, jav_id };
      case 'search.performed':
        return this.search(user_id);
      case 'recommendation.clicked':
        return { type, user_id, jav_id, reason: REASONS[Math.floor(this.rng() * REASONS.length)]! };
      case 'featured.item.updated': {
        const f = this.catalog.featured[Math.floor(this.rng() * this.catalog.featured.length)];
        if (!f) return { type: 'movie.viewed', user_id, jav_id };
        return { type, user_id: null, item_type: f.item_type, item_id: f.item_id, group: f.group, rank: Math.floor(this.rng() * 10), active: true, expires_at: null, admin_user_id: this.catalog.userIds[0] ?? 1, previous_group: f.group };
      }
      default:
        return { type, user_id, jav_id } as TallyEvent;
    }
  }

  private type(): TallyEvent['type'] {
    let u = this.rng();
    for (const [t, w] of TRAFFIC_MIX) if ((u -= w) < 0) return t;
    return 'movie.viewed';
  }

  private search(user_id: number | null): TallyEvent {
    const entity = this.rng();
    const entity_type = entity < 0.7 ? 'movie' : entity < 0.85 ? 'actor' : 'tag';
    if (this.rng() < ZERO_RESULT_SHARE) {
      return { type: 'search.performed', user_id, query: MISSPELLINGS[Math.floor(this.rng() * MISSPELLINGS.length)]!, filters: {}, entity_type, result_count: 0 };
    }
    const tag = this.catalog.tagNames[this.tags.index(this.rng()) % Math.max(1, this.catalog.tagNames.length)] ?? 'new';
    const filters: Record<string, string> = this.rng() < 0.3 ? { sort: this.rng() < 0.5 ? 'popular' : 'newest' } : {};
    return { type: 'search.performed', user_id, query: tag, filters, entity_type, result_count: 1 + Math.floor(this.rng() * 200) };
  }
}
