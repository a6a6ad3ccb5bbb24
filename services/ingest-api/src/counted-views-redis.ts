import type Redis from 'ioredis';
import type { CountedView, CountedViewStore } from './view-window';

// Compare-and-delete: only a claim that still holds this request's event_id goes; a newer one stays.
const RELEASE = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0";

type ReleasePipeline = ReturnType<Redis['pipeline']> & { tallyReleaseView(key: string, eventId: string): unknown };

/** The counted views in Redis: one pipeline (one round trip) per request for either step. */
export class RedisCountedViews implements CountedViewStore {
  constructor(private readonly redis: Redis) {
    redis.defineCommand('tallyReleaseView', { numberOfKeys: 1, lua: RELEASE });
  }

  async claim(views: readonly CountedView[], ttlMs: number): Promise<(string | null)[]> {
    const p = this.redis.pipeline();
    // SET … NX GET (Redis ≥ 7.0) claims a free key and says what a taken one holds, in one command.
    for (const v of views) p.set(v.key, v.eventId, 'PX', ttlMs, 'NX', 'GET');
    return replies(await p.exec()).map((r) => (r === null ? null : String(r)));
  }

  async release(views: readonly CountedView[]): Promise<void> {
    const p = this.redis.pipeline() as ReleasePipeline;
    for (const v of views) p.tallyReleaseView(v.key, v.eventId);
    replies(await p.exec());
  }
}

/** A pipeline's replies; the first failed command (a timeout, a lost connection) fails the whole step. */
function replies(results: [Error | null, unknown][] | null): unknown[] {
  if (results === null) throw new Error('the Redis pipeline was discarded');
  return results.map(([err, value]) => {
    if (err) throw err;
    return value;
  });
}
