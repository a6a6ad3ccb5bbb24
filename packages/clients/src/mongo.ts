import { MongoClient } from 'mongodb';

export interface MongoSettings {
  url: string;
  serverSelectionTimeoutMs?: number;
}

/**
 * MongoDB is a read cache of finished snapshots: a short server-selection timeout lets readers fall
 * back to MySQL quickly when it is down instead of hanging for the driver's default 30 s.
 */
export function createMongo(s: MongoSettings): MongoClient {
  return new MongoClient(s.url, {
    serverSelectionTimeoutMS: s.serverSelectionTimeoutMs ?? 3_000,
    connectTimeoutMS: 3_000,
    // FerretDB (the local stack) has no retryable-writes session support.
    retryWrites: false,
  });
}
