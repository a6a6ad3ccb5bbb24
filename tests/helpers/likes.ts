import type { EventType } from '@tally/events';

/**
 * The oracle of likes (services/counter: per user and movie, the latest like/unlike by
 * (occurred_at, lower-cased event_id) wins; guests and bots hold no state): the number of users who
 * like each movie now, starting from no state at all.
 */
export class LikeOracle {
  private readonly states = new Map<string, { at: number; id: string; liked: boolean; javId: number }>();

  /** Feeds one accepted event (any type; only likes and unlikes of signed-in humans matter). */
  apply(type: EventType, e: { jav_id?: unknown; user_id?: unknown; occurred_at?: unknown; event_id?: unknown; is_bot?: unknown }): void {
    if ((type !== 'movie.liked' && type !== 'movie.unliked') || e.is_bot === true || typeof e.user_id !== 'number') return;
    const javId = Number(e.jav_id);
    const at = Number(e.occurred_at);
    const id = String(e.event_id).toLowerCase();
    const key = `${javId}:${e.user_id}`;
    const cur = this.states.get(key);
    if (cur && (cur.at > at || (cur.at === at && cur.id >= id))) return;
    this.states.set(key, { at, id, liked: type === 'movie.liked', javId });
  }

  /** Users liking each movie now (movies without any are absent). */
  likes(): Map<number, number> {
    const out = new Map<number, number>();
    for (const s of this.states.values()) if (s.liked) out.set(s.javId, (out.get(s.javId) ?? 0) + 1);
    return out;
  }
}
