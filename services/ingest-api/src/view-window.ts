import { createHash } from 'node:crypto';
import type { EventOf, MovieViewed, TallyEvent } from '@tally/events';
import { ingestKeys } from '@tally/layout';
import { errorMessage, type Logger } from '@tally/runtime';

/** One counted view: the key of its viewer and movie, holding its event_id. */
export interface CountedView {
  key: string;
  eventId: string;
}

/** Where the counted views live (Redis in production, a map in unit tests). */
export interface CountedViewStore {
  /**
   * For each view in order, `SET key eventId NX PX ttlMs GET`: what the key held before (null when it
   * was free and now holds this view). All views of a request in one round trip.
   */
  claim(views: readonly CountedView[], ttlMs: number): Promise<(string | null)[]>;
  /** Deletes each key that still holds its view's event_id, in one round trip. */
  release(views: readonly CountedView[]): Promise<void>;
}

export interface Marking {
  /** Views counted by this request; released again if Kafka does not take the request. */
  counted: CountedView[];
  repeats: number;
  /** The store did not answer: every view of the request counts (fail open). */
  failedOpen: boolean;
}

const NOTHING: Marking = { counted: [], repeats: 0, failedOpen: false };

/**
 * Who viewed: the signed-in user, else a guest told apart by ip and user agent. The guest part is
 * hashed so no ip lands in Redis; it is the event's ip, i.e. already anonymized under ANONYMIZE_IP,
 * so Redis never learns more than the logs keep. 128 bits of SHA-256 keep guests apart.
 */
export function viewerOf(p: Pick<MovieViewed, 'user_id' | 'ip' | 'user_agent'>): string {
  if (p.user_id !== null) return `u:${p.user_id}`;
  return `g:${createHash('sha256')
    .update(`${p.ip}\n${p.user_agent ?? ''}`)
    .digest('base64url')
    .slice(0, 22)}`;
}

// The raw log's event_id is case-insensitive (ascii_general_ci): an upper-case retry is the same event.
const normalized = (eventId: string) => eventId.toLowerCase();

/**
 * A view is a repeat only when ANOTHER view holds its viewer's window for the movie. The same
 * event_id again is a client retry of the counted view (after a 503, whether or not Kafka got the
 * first attempt), so it keeps its count.
 */
export function isRepeat(held: string | null, eventId: string): boolean {
  return held !== null && held !== normalized(eventId);
}

const isCheckedView = (e: TallyEvent): e is EventOf<'movie.viewed'> => e.type === 'movie.viewed' && !e.payload.is_bot;

/**
 * The de-dup window of VIEW_DEDUP_WINDOW, decided once at ingest so every sink and every replay
 * sees the same verdict in the record (`repeat_view`). Crawler views are left alone: they are never
 * counted anyway, and their keys would only fill Redis.
 */
export class ViewWindow {
  private unavailable = false;

  constructor(
    private readonly store: CountedViewStore,
    private readonly opts: { windowMs: number; topicPrefix: string },
    private readonly logger: Logger,
  ) {}

  /** Sets `repeat_view` on the request's views in place; one store round trip, none without views. */
  async mark(events: readonly TallyEvent[]): Promise<Marking> {
    const views = events.filter(isCheckedView);
    if (views.length === 0) return NOTHING;
    const claims = views.map((v) => ({
      key: ingestKeys.countedView(this.opts.topicPrefix, viewerOf(v.payload), v.payload.jav_id),
      eventId: normalized(v.payload.event_id),
    }));
    let held: (string | null)[];
    try {
      held = await this.store.claim(claims, this.opts.windowMs);
    } catch (err) {
      this.failed(err);
      return { counted: [], repeats: 0, failedOpen: true };
    }
    this.answered();
    const out: Marking = { counted: [], repeats: 0, failedOpen: false };
    views.forEach((v, i) => {
      if (isRepeat(held[i] ?? null, v.payload.event_id)) {
        v.payload.repeat_view = true;
        out.repeats++;
      } else {
        out.counted.push(claims[i]!);
      }
    });
    return out;
  }

  /**
   * After a 503: a failed request leaves no claim, so a view that is never retried (sendBeacon
   * cannot see the 503) does not turn the viewer's next view into a repeat. When Kafka did take the
   * failed request after all, the next view counts too: at most one view too many, never one lost.
   */
  async release(marking: Marking): Promise<void> {
    if (marking.counted.length === 0) return;
    try {
      await this.store.release(marking.counted);
    } catch (err) {
      // The claims expire with the window anyway.
      this.logger.debug({ err: errorMessage(err) }, 'could not release the view claims of a failed request');
    }
  }

  // One warning per outage, not one per request: at thousands of requests a second the log would drown.
  private failed(err: unknown): void {
    if (this.unavailable) return;
    this.unavailable = true;
    this.logger.warn({ err: errorMessage(err) }, 'view de-dup: Redis does not answer; counting every view until it does (fail open)');
  }

  private answered(): void {
    if (!this.unavailable) return;
    this.unavailable = false;
    this.logger.info('view de-dup: Redis answers again; the window applies again');
  }
}
