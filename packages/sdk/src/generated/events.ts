// generated — do not edit.
// Source: schemas/*.avsc and schemas/topics.json, as the ingest API accepts events from a client: the
// fields the server sets (received_at, is_bot, repeat_view) are absent, ip and user_agent need a server key.
// Regenerate: npx tsc -b && node packages/events/scripts/generate-types.js

/** Epoch milliseconds or an ISO-8601 date-time with a zone; the server converts both to epoch milliseconds. */
export type Timestamp = number | string;

/** Fields a client may send with any event type. */
export interface EventCommon {
  /** Client-generated UUID of this event; the idempotency key every sink deduplicates on (unique in the raw log). */
  event_id?: string;
  /** When the action happened, in epoch milliseconds: client time shifted by (received_at - sent_at) to correct the client clock skew. */
  occurred_at?: Timestamp;
  /** Client clock when the batch was sent, epoch milliseconds; null when the client did not say. Used to estimate clock skew. */
  sent_at?: null | Timestamp;
  /** users.id of the signed-in viewer; null for a guest (then ip identifies the viewer). */
  user_id?: null | number;
  /** Client IP address (IPv4 or IPv6) as seen by the ingest API; identifies guests. Accepted only with a server key. */
  ip?: string;
  /** User-Agent header, at most 512 characters; null when absent. Accepted only with a server key. */
  user_agent?: null | string;
}

/** Kind of entity searched. */
export type SearchEntityType = 'movie' | 'actor' | 'tag';

/** Kind of catalog entity a featured item points at. */
export type FeaturedItemType = 'movie' | 'actor' | 'tag';

/** A viewer opened a movie page. */
export interface MovieViewed extends EventCommon {
  type: 'movie.viewed';
  /** jav.id of the movie viewed. */
  jav_id: number;
}

/** A viewer downloaded a movie. */
export interface MovieDownloaded extends EventCommon {
  type: 'movie.downloaded';
  /** jav.id of the movie downloaded. */
  jav_id: number;
}

/** A viewer rated a movie; a later rating by the same viewer replaces the earlier one. */
export interface MovieRated extends EventCommon {
  type: 'movie.rated';
  /** jav.id of the movie rated. */
  jav_id: number;
  /** Stars given, an integer from 1 to 5. */
  rating: number;
}

/** A viewer liked a movie. */
export interface MovieLiked extends EventCommon {
  type: 'movie.liked';
  /** jav.id of the movie liked. */
  jav_id: number;
}

/** A viewer withdrew a like; sinks order it against movie.liked by occurred_at, as the two topics are not ordered with each other. */
export interface MovieUnliked extends EventCommon {
  type: 'movie.unliked';
  /** jav.id of the movie unliked. */
  jav_id: number;
}

/** A viewer added a movie to the watchlist. */
export interface MovieWatchlisted extends EventCommon {
  type: 'movie.watchlisted';
  /** jav.id of the movie added to the watchlist. */
  jav_id: number;
}

/** A viewer removed a movie from the watchlist; ordered against movie.watchlisted by occurred_at. */
export interface MovieUnwatchlisted extends EventCommon {
  type: 'movie.unwatchlisted';
  /** jav.id of the movie removed from the watchlist. */
  jav_id: number;
}

/** A viewer opened an actor page. */
export interface ActorViewed extends EventCommon {
  type: 'actor.viewed';
  /** actors.id of the actor viewed. */
  actor_id: number;
}

/** A viewer opened a tag page. */
export interface TagViewed extends EventCommon {
  type: 'tag.viewed';
  /** tags.id of the tag viewed. */
  tag_id: number;
}

/** A viewer ran a search. */
export interface SearchPerformed extends EventCommon {
  type: 'search.performed';
  /** Search text as typed, at most 500 characters; may be empty when only filters are set. */
  query: string;
  /** Filters applied, filter name to value (e.g. "year" to "2021"). */
  filters: Record<string, string>;
  /** Which catalog was searched: movies, actors or tags. */
  entity_type: SearchEntityType;
  /** Number of results the search returned, 0 or more. */
  result_count: number;
}

/** A viewer clicked a recommended movie. */
export interface RecommendationClicked extends EventCommon {
  type: 'recommendation.clicked';
  /** jav.id of the movie clicked. */
  jav_id: number;
  /** Why the movie was recommended (e.g. "same_actor", "similar_tags"), 1 to 64 characters. */
  reason: string;
}

/** An admin added an item to a featured group. */
export interface FeaturedItemCreated extends EventCommon {
  type: 'featured.item.created';
  /** Whether item_id is a jav.id, an actors.id or a tags.id. */
  item_type: FeaturedItemType;
  /** id of the featured movie, actor or tag (table chosen by item_type). */
  item_id: number;
  /** Featured group (shelf) the item was added to, 1 to 64 characters. */
  group: string;
  /** Position inside the group, 0 first. */
  rank: number;
  /** Whether the item is shown; an inactive item stays in the group but is hidden. */
  active: boolean;
  /** When the item stops being shown, epoch milliseconds; null for never. */
  expires_at?: null | number;
  /** users.id of the admin who made the change. */
  admin_user_id: number;
}

/** An admin changed a featured item (group, rank, active flag or expiry); fields hold the new values. */
export interface FeaturedItemUpdated extends EventCommon {
  type: 'featured.item.updated';
  /** Whether item_id is a jav.id, an actors.id or a tags.id. */
  item_type: FeaturedItemType;
  /** id of the featured movie, actor or tag (table chosen by item_type). */
  item_id: number;
  /** Featured group (shelf) the item is in after the change, 1 to 64 characters. */
  group: string;
  /** Group the item was in before, when the update moved it; null when the group did not change. */
  previous_group?: null | string;
  /** Position inside the group, 0 first. */
  rank: number;
  /** Whether the item is shown; an inactive item stays in the group but is hidden. */
  active: boolean;
  /** When the item stops being shown, epoch milliseconds; null for never. */
  expires_at?: null | number;
  /** users.id of the admin who made the change. */
  admin_user_id: number;
}

/** An admin removed an item from a featured group; fields hold the values it had when removed. */
export interface FeaturedItemRemoved extends EventCommon {
  type: 'featured.item.removed';
  /** Whether item_id is a jav.id, an actors.id or a tags.id. */
  item_type: FeaturedItemType;
  /** id of the featured movie, actor or tag (table chosen by item_type). */
  item_id: number;
  /** Featured group (shelf) the item was removed from, 1 to 64 characters. */
  group: string;
  /** Position inside the group, 0 first. */
  rank: number;
  /** Whether the item is shown; an inactive item stays in the group but is hidden. */
  active: boolean;
  /** When the item stops being shown, epoch milliseconds; null for never. */
  expires_at?: null | number;
  /** users.id of the admin who made the change. */
  admin_user_id: number;
}

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

/** Every event type, in the order of schemas/topics.json. */
export const EVENT_TYPES = [
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
] as const satisfies readonly EventType[];
