// Hand-written mirror of schemas/*.avsc as the ingest API accepts them from a client: the server
// fills received_at, ip, user_agent, is_bot and (movie.viewed) repeat_view, so they are absent here
// (ip and user_agent are allowed only with a server key, to forward the end user's). The SDK is meant
// to be usable outside this repo, so it does not import @tally/events; when a schema changes, change
// this file with it.

/** Epoch milliseconds or an ISO-8601 string; the server converts both to epoch milliseconds. */
export type Timestamp = number | string;

/** Fields a client may send with any event type. */
export interface EventCommon {
  /** UUID v4; the server and every sink deduplicate on it. Assigned by track() when missing. */
  event_id?: string;
  /** When the action happened on the client. Assigned by track() (now) when missing. */
  occurred_at?: Timestamp;
  /** users.id of the signed-in viewer; null or absent for a guest. */
  user_id?: number | null;
  /** End user's IP address, forwarded by a back end. Accepted only with a server key. */
  ip?: string;
  /** End user's User-Agent, forwarded by a back end. Accepted only with a server key. */
  user_agent?: string | null;
}

interface MovieEvent<T extends string> extends EventCommon {
  type: T;
  /** jav.id of the movie. */
  jav_id: number;
}

export type MovieViewed = MovieEvent<'movie.viewed'>;
export type MovieDownloaded = MovieEvent<'movie.downloaded'>;
export type MovieLiked = MovieEvent<'movie.liked'>;
export type MovieUnliked = MovieEvent<'movie.unliked'>;
export type MovieWatchlisted = MovieEvent<'movie.watchlisted'>;
export type MovieUnwatchlisted = MovieEvent<'movie.unwatchlisted'>;

export interface MovieRated extends MovieEvent<'movie.rated'> {
  /** Stars, an integer from 1 to 5. */
  rating: number;
}

export interface ActorViewed extends EventCommon {
  type: 'actor.viewed';
  actor_id: number;
}

export interface TagViewed extends EventCommon {
  type: 'tag.viewed';
  tag_id: number;
}

export type EntityType = 'movie' | 'actor' | 'tag';

export interface SearchPerformed extends EventCommon {
  type: 'search.performed';
  /** At most 500 characters. */
  query: string;
  filters: Record<string, string>;
  entity_type: EntityType;
  result_count: number;
}

export interface RecommendationClicked extends EventCommon {
  type: 'recommendation.clicked';
  jav_id: number;
  reason: string;
}

interface FeaturedItemEvent<T extends string> extends EventCommon {
  type: T;
  item_type: EntityType;
  item_id: number;
  /** Featured group (shelf), 1 to 64 characters. */
  group: string;
  /** Position inside the group, 0 first. */
  rank: number;
  active: boolean;
  expires_at?: Timestamp | null;
  /** users.id of the admin who made the change (required by the schemas). */
  admin_user_id: number;
}

export type FeaturedItemCreated = FeaturedItemEvent<'featured.item.created'>;
export interface FeaturedItemUpdated extends FeaturedItemEvent<'featured.item.updated'> {
  previous_group?: string | null;
}
export type FeaturedItemRemoved = FeaturedItemEvent<'featured.item.removed'>;

/** Any event track() accepts, discriminated on `type`. */
export type TallyEvent =
  | MovieViewed
  | MovieDownloaded
  | MovieRated
  | MovieLiked
  | MovieUnliked
  | MovieWatchlisted
  | MovieUnwatchlisted
  | ActorViewed
  | TagViewed
  | SearchPerformed
  | RecommendationClicked
  | FeaturedItemCreated
  | FeaturedItemUpdated
  | FeaturedItemRemoved;

export type EventType = TallyEvent['type'];

/** An event after track(): its id and time are fixed, so every retry sends the same ones. */
export type TrackedEvent = TallyEvent & { event_id: string; occurred_at: Timestamp };

export const EVENT_TYPES: readonly EventType[] = [
  'movie.viewed',
  'movie.downloaded',
  'movie.rated',
  'movie.liked',
  'movie.unliked',
  'movie.watchlisted',
  'movie.unwatchlisted',
  'actor.viewed',
  'tag.viewed',
  'search.performed',
  'recommendation.clicked',
  'featured.item.created',
  'featured.item.updated',
  'featured.item.removed',
];
