import { SingleBar, Presets } from 'cli-progress';
import type { Knex } from 'knex';
import { catalogFromConfig, type Catalog as AppCatalog } from '@tally/catalog';
import { createMysql } from '@tally/clients';
import { rngFor } from '@tally/db';
import { TallyClient, type TallyClientError } from '@tally/sdk';
import { TrafficGenerator, type Catalog } from './simulation';
import type { CliConfig } from '../context';

export interface SimulateOptions {
  rate: number;
  durationMs: number;
  endpoint: string;
  key: string;
  seed: number;
  /** Share of visitors that are crawlers, from 0 to 1. */
  botShare: number;
  progress: boolean;
}

// The one duration parser (@tally/config), re-exported for the commands that imported it from here.
export { parseDuration } from '@tally/config';

/** A share from 0 to 1: `0.03`, `.5`, `1`; anything else (`3%`, `-0.1`, `2`) is refused naming the flag. */
export function parseShare(text: string, flag: string): number {
  const v = /^(\d+(\.\d*)?|\.\d+)$/.test(text.trim()) ? Number(text) : NaN;
  if (!(v >= 0 && v <= 1)) throw new Error(`${flag}: "${text}" is not a share from 0 to 1 (example: 0.03 for 3 %)`);
  return v;
}

/** What the traffic is about, read from the app's tables through the catalog mapping. */
async function loadTargets(db: Knex, app: AppCatalog): Promise<Catalog> {
  const m = app.mapping;
  // Popular first: the Zipf head lands on the movies the catalog already ranks highest.
  const movies = await db(app.table('movies'))
    .select({ id: m.movies.id })
    .orderBy([{ column: m.movies.counts.views, order: 'desc' }, { column: m.movies.id }])
    .limit(100_000);
  const actors = await db(app.table('actors')).select({ id: m.actors.id }).orderBy(m.actors.id).limit(20_000);
  const tags = await db(app.table('tags')).select({ id: m.tags.id, name: m.tags.name }).orderBy(m.tags.id).limit(5_000);
  const users = await db(app.table('users')).select({ id: m.users.id }).orderBy(m.users.id).limit(100_000);
  const f = m.featured;
  const featuredQuery = db(app.table('featured'))
    .select({ item_type: f.itemType, item_id: f.itemId, group: f.group, rank: f.rank })
    .limit(1_000);
  if (f.active !== null) featuredQuery.where(f.active, true);
  const kindOf = new Map(Object.entries(f.itemTypes).map(([kind, stored]) => [stored, kind as 'movie' | 'actor' | 'tag']));
  const featured = ((await featuredQuery) as { item_type: string; item_id: number; group: string; rank: number }[]).flatMap((r) => {
    const kind = kindOf.get(r.item_type);
    return kind ? [{ ...r, item_type: kind, item_id: Number(r.item_id), rank: Number(r.rank) }] : [];
  });
  return {
    movieIds: movies.map((r: { id: number }) => Number(r.id)),
    actorIds: actors.map((r: { id: number }) => Number(r.id)),
    tagIds: tags.map((r: { id: number }) => Number(r.id)),
    tagNames: tags.map((r: { name: string }) => r.name),
    userIds: users.map((r: { id: number }) => Number(r.id)),
    featured,
  };
}

/**
 * `tally simulate`: realistic traffic through the ingest API at a steady rate, as the web app's back
 * end would send it (server key, batched SDK client). The back end forwards each visitor's ip and
 * user agent in the event, which the ingest API trusts from a server key only: the request's own
 * User-Agent is this process's (`node`), a crawler to the ingest API's bot check. Exit 0 when every event was accepted, 1 if any
 * was refused or could not be delivered.
 */
export async function simulate(config: CliConfig, o: SimulateOptions): Promise<number> {
  const db = createMysql({ url: config.MYSQL_URL, poolMax: 2 });
  let catalog: Catalog;
  try {
    catalog = await loadTargets(db, catalogFromConfig(config));
  } finally {
    await db.destroy();
  }
  const gen = new TrafficGenerator(catalog, rngFor(o.seed, 'simulate'), { botShare: o.botShare });
  const errors: TallyClientError[] = [];
  const client = new TallyClient({
    endpoint: o.endpoint,
    key: o.key,
    batchSize: 100,
    flushIntervalMs: 200,
    onError: (e) => errors.push(e),
  });
  const total = Math.max(1, Math.round((o.rate * o.durationMs) / 1000));
  const bar = o.progress
    ? new SingleBar(
        { format: 'simulate |{bar}| {value}/{total} events | {rate} ev/s | ETA {eta_formatted}', hideCursor: true },
        Presets.shades_classic,
      )
    : undefined;
  bar?.start(total, 0, { rate: 0 });
  const t0 = Date.now();
  let sent = 0;
  let dropped = 0;
  // Pace by the clock: each tick sends what is due by now, so a slow tick is caught up, not lost.
  while (sent < total) {
    const due = Math.min(total, Math.floor(((Date.now() - t0) / 1000) * o.rate) + 1);
    for (; sent < due; sent++) if (!client.track(gen.next())) dropped++;
    bar?.update(sent, { rate: Math.round(sent / Math.max(0.001, (Date.now() - t0) / 1000)) });
    if (sent < total) await new Promise((r) => setTimeout(r, 20));
  }
  const last = await client.close();
  bar?.stop();
  const stats = client.stats();
  const seconds = (Date.now() - t0) / 1000;
  process.stdout.write(
    `simulate: ${stats.accepted} accepted, ${stats.rejected} rejected, ${dropped} dropped (queue full), ${last.retained.length} undelivered in ${seconds.toFixed(1)} s (${Math.round(stats.accepted / seconds)} ev/s)\n`,
  );
  for (const e of errors.slice(0, 5)) process.stderr.write(`tally: ${e.message}\n`);
  return stats.rejected === 0 && last.retained.length === 0 && dropped === 0 && stats.accepted === total ? 0 : 1;
}
