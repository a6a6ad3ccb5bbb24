// The event types are generated from schemas/*.avsc into generated/events.ts (the client's shape:
// server-set fields absent, ip and user_agent only with a server key); a drift test in
// packages/events fails when a schema changed and they were not regenerated:
//   npx tsc -b && node packages/events/scripts/generate-types.js
// The SDK is meant to be usable outside this repo, so it imports nothing from @tally/events.
import type { FeaturedItemType, SearchEntityType, TallyEvent, Timestamp } from './generated/events';

export * from './generated/events';

/** The catalog entity kinds a search or a featured item names (the schemas' two enums have the same symbols). */
export type EntityType = SearchEntityType | FeaturedItemType;

/** An event after track(): its id and time are fixed, so every retry sends the same ones. */
export type TrackedEvent = TallyEvent & { event_id: string; occurred_at: Timestamp };
