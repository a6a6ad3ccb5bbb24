// generated — do not edit.
// Source: schemas/*.avsc and schemas/topics.json. Regenerate: npx tsc -b && node packages/events/scripts/generate-types.js
// Timestamps (logicalType timestamp-millis) are numbers of epoch milliseconds and longs are numbers:
// avsc is used without logical-type classes, so decode and encode give plain numbers everywhere.

/** Fields every event starts with (identical in each schemas/*.avsc). */
export interface EventEnvelope {
  /** Client-generated UUID of this event; the idempotency key every sink deduplicates on (unique in the raw log). */
  event_id: string;
  /** When the action happened, in epoch milliseconds: client time shifted by (received_at - sent_at) to correct the client clock skew. */
  occurred_at: number;
  /** Client clock when the batch was sent, epoch milliseconds; null when the client did not say. Used to estimate clock skew. */
  sent_at: null | number;
  /** Server clock when the ingest API accepted the event, epoch milliseconds. The trusted time. */
  received_at: number;
  /** users.id of the signed-in viewer; null for a guest (then ip identifies the viewer). */
  user_id: null | number;
  /** Client IP address (IPv4 or IPv6) as seen by the ingest API; identifies guests. */
  ip: string;
  /** User-Agent header, at most 512 characters; null when absent. */
  user_agent: null | string;
  /** True when the ingest API classified the client as a crawler; counters skip these. */
  is_bot: boolean;
}

/** A viewer opened a movie page. */
export interface MovieViewed extends EventEnvelope {
  /** jav.id of the movie viewed. */
  jav_id: number;
  /** Set by the ingest API, never by a client: true when the same viewer (user_id, else ip + user agent) already had a counted view of this movie within VIEW_DEDUP_WINDOW. Logged like any view; counters skip it. Always false while the window is off. */
  repeat_view: boolean;
}

/** A viewer downloaded a movie. */
export interface MovieDownloaded extends EventEnvelope {
  /** jav.id of the movie downloaded. */
  jav_id: number;
}

/** A viewer rated a movie; a later rating by the same viewer replaces the earlier one. */
export interface MovieRated extends EventEnvelope {
  /** jav.id of the movie rated. */
  jav_id: number;
  /** Stars given, an integer from 1 to 5. */
  rating: number;
}

/** A viewer liked a movie. */
export interface MovieLiked extends EventEnvelope {
  /** jav.id of the movie liked. */
  jav_id: number;
}

/** A viewer withdrew a like; sinks order it against movie.liked by occurred_at, as the two topics are not ordered with each other. */
export interface MovieUnliked extends EventEnvelope {
  /** jav.id of the movie unliked. */
  jav_id: number;
}

/** A viewer added a movie to the watchlist. */
export interface MovieWatchlisted extends EventEnvelope {
  /** jav.id of the movie added to the watchlist. */
  jav_id: number;
}

/** A viewer removed a movie from the watchlist; ordered against movie.watchlisted by occurred_at. */
export interface MovieUnwatchlisted extends EventEnvelope {
  /** jav.id of the movie removed from the watchlist. */
  jav_id: number;
}

/** A viewer opened an actor page. */
export interface ActorViewed extends EventEnvelope {
  /** actors.id of the actor viewed. */
  actor_id: number;
}

/** A viewer opened a tag page. */
export interface TagViewed extends EventEnvelope {
  /** tags.id of the tag viewed. */
  tag_id: number;
}

/** Kind of entity searched. */
export type SearchEntityType = 'movie' | 'actor' | 'tag';

/** A viewer ran a search. */
export interface SearchPerformed extends EventEnvelope {
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
export interface RecommendationClicked extends EventEnvelope {
  /** jav.id of the movie clicked. */
  jav_id: number;
  /** Why the movie was recommended (e.g. "same_actor", "similar_tags"), 1 to 64 characters. */
  reason: string;
}

/** Kind of catalog entity a featured item points at. */
export type FeaturedItemType = 'movie' | 'actor' | 'tag';

/** An admin added an item to a featured group. */
export interface FeaturedItemCreated extends EventEnvelope {
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
  expires_at: null | number;
  /** users.id of the admin who made the change. */
  admin_user_id: number;
}

/** An admin changed a featured item (group, rank, active flag or expiry); fields hold the new values. */
export interface FeaturedItemUpdated extends EventEnvelope {
  /** Whether item_id is a jav.id, an actors.id or a tags.id. */
  item_type: FeaturedItemType;
  /** id of the featured movie, actor or tag (table chosen by item_type). */
  item_id: number;
  /** Featured group (shelf) the item is in after the change, 1 to 64 characters. */
  group: string;
  /** Group the item was in before, when the update moved it; null when the group did not change. */
  previous_group: null | string;
  /** Position inside the group, 0 first. */
  rank: number;
  /** Whether the item is shown; an inactive item stays in the group but is hidden. */
  active: boolean;
  /** When the item stops being shown, epoch milliseconds; null for never. */
  expires_at: null | number;
  /** users.id of the admin who made the change. */
  admin_user_id: number;
}

/** An admin removed an item from a featured group; fields hold the values it had when removed. */
export interface FeaturedItemRemoved extends EventEnvelope {
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
  expires_at: null | number;
  /** users.id of the admin who made the change. */
  admin_user_id: number;
}

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
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

/** The Avro record of each event type. */
export interface EventPayloads {
  'movie.viewed': MovieViewed;
  'movie.downloaded': MovieDownloaded;
  'movie.rated': MovieRated;
  'movie.liked': MovieLiked;
  'movie.unliked': MovieUnliked;
  'movie.watchlisted': MovieWatchlisted;
  'movie.unwatchlisted': MovieUnwatchlisted;
  'actor.viewed': ActorViewed;
  'tag.viewed': TagViewed;
  'search.performed': SearchPerformed;
  'recommendation.clicked': RecommendationClicked;
  'featured.item.created': FeaturedItemCreated;
  'featured.item.updated': FeaturedItemUpdated;
  'featured.item.removed': FeaturedItemRemoved;
}

/** Any event, discriminated by `type`. */
export type TallyEvent =
  | { type: 'movie.viewed'; payload: MovieViewed }
  | { type: 'movie.downloaded'; payload: MovieDownloaded }
  | { type: 'movie.rated'; payload: MovieRated }
  | { type: 'movie.liked'; payload: MovieLiked }
  | { type: 'movie.unliked'; payload: MovieUnliked }
  | { type: 'movie.watchlisted'; payload: MovieWatchlisted }
  | { type: 'movie.unwatchlisted'; payload: MovieUnwatchlisted }
  | { type: 'actor.viewed'; payload: ActorViewed }
  | { type: 'tag.viewed'; payload: TagViewed }
  | { type: 'search.performed'; payload: SearchPerformed }
  | { type: 'recommendation.clicked'; payload: RecommendationClicked }
  | { type: 'featured.item.created'; payload: FeaturedItemCreated }
  | { type: 'featured.item.updated'; payload: FeaturedItemUpdated }
  | { type: 'featured.item.removed'; payload: FeaturedItemRemoved };
