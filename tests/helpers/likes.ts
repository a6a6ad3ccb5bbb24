import type { EventType } from '@tally/events';

type Facet = 'like' | 'rating' | 'watchlist';
const FACET: Partial<Record<EventType, { facet: Facet; value: (e: { rating?: unknown }) => number }>> = {
  'movie.liked': { facet: 'like', value: () => 1 },
  'movie.unliked': { facet: 'like', value: () => 0 },
  'movie.watchlisted': { facet: 'watchlist', value: () => 1 },
  'movie.unwatchlisted': { facet: 'watchlist', value: () => 0 },
  'movie.rated': { facet: 'rating', value: (e) => Number(e.rating) },
};

/** The figures of per-user state, by `metric:javId`. */
export type StateMetric = 'likes' | 'rating_count' | 'rating_sum' | 'watchlists';
export const STATE_METRICS: readonly StateMetric[] = ['likes', 'rating_count', 'rating_sum', 'watchlists'];
export const isStateEvent = (type: EventType): boolean => FACET[type] !== undefined;

/**
 * The oracle of the per-user figures (services/counter: per user, movie and facet, the latest change
 * by (occurred_at, lower-cased event_id) wins; guests and bots hold no state), starting from no state:
 * likes = users liking the movie, rating_count/rating_sum over the users' current ratings,
 * watchlists = users with the movie on their watchlist.
 */
export class LikeOracle {
  private readonly states = new Map<string, { at: number; id: string; value: number; facet: Facet; javId: number }>();

  /** Feeds one accepted event (any type; only per-user changes of signed-in humans matter). */
  apply(
    type: EventType,
    e: { jav_id?: unknown; user_id?: unknown; occurred_at?: unknown; event_id?: unknown; is_bot?: unknown; rating?: unknown },
  ): void {
    const f = FACET[type];
    if (!f || e.is_bot === true || typeof e.user_id !== 'number') return;
    const javId = Number(e.jav_id);
    const at = Number(e.occurred_at);
    const id = String(e.event_id).toLowerCase();
    const key = `${f.facet}:${javId}:${e.user_id}`;
    const cur = this.states.get(key);
    if (cur && (cur.at > at || (cur.at === at && cur.id >= id))) return;
    this.states.set(key, { at, id, value: f.value(e), facet: f.facet, javId });
  }

  /** Every non-zero figure, by `metric:javId`. */
  figures(): Map<string, number> {
    const out = new Map<string, number>();
    const add = (metric: StateMetric, javId: number, n: number) => {
      if (n !== 0) out.set(`${metric}:${javId}`, (out.get(`${metric}:${javId}`) ?? 0) + n);
    };
    for (const s of this.states.values()) {
      if (s.facet === 'like') add('likes', s.javId, s.value);
      else if (s.facet === 'watchlist') add('watchlists', s.javId, s.value);
      else if (s.value > 0) {
        add('rating_count', s.javId, 1);
        add('rating_sum', s.javId, s.value);
      }
    }
    return out;
  }

  /** Users liking each movie now (movies without any are absent). */
  likes(): Map<number, number> {
    const out = new Map<number, number>();
    for (const [k, n] of this.figures()) if (k.startsWith('likes:')) out.set(Number(k.slice(6)), n);
    return out;
  }
}
