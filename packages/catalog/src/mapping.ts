import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { TallyError } from '@tally/runtime';

/**
 * The one description of the web app's MySQL tables, Redis keys and search indices that Tally reads
 * or writes (docs/adopting.md). Every default is the demo schema of packages/db, so a file names only
 * what differs in the app. Nothing outside @tally/catalog names an app column.
 */

const ident = z
  .string()
  .regex(
    /^[A-Za-z_][A-Za-z0-9_$]{0,63}$/,
    'must be a MySQL identifier: letters, digits, "_" or "$", at most 64, not starting with a digit',
  );
/** A column Tally can do without (null: not mapped, never read or written). */
const optional = (name: string) => ident.nullable().default(name);

const movies = z
  .object({
    table: ident.default('jav'),
    id: ident.default('id'),
    /** Shown fields, read by the featured cache, the dashboard and es-sync; the API names stay code/title/provider/release_date. */
    display: z
      .object({
        code: ident.default('code'),
        title: ident.default('title'),
        provider: optional('provider'),
        release_date: optional('release_date'),
      })
      .strict()
      .default({}),
    /** Counter columns Tally owns after the cut-over: the flusher adds to them, nothing else writes them. */
    counts: z
      .object({
        views: ident.default('views'),
        downloads: ident.default('downloads'),
        likes: ident.default('likes'),
        rating_count: ident.default('rating_count'),
        rating_sum: ident.default('rating_sum'),
        watchlists: ident.default('watchlists'),
      })
      .strict()
      .default({}),
    /** Stamped by the flusher with every change of counts; es-sync walks it. Tally adds it when missing. */
    countsUpdatedAt: ident.default('counts_updated_at'),
  })
  .strict()
  .default({});

const entity = (table: string) =>
  z
    .object({ table: ident.default(table), id: ident.default('id'), name: ident.default('name') })
    .strict()
    .default({});
const featured = z
  .object({
    table: ident.default('featured_items'),
    id: ident.default('id'),
    itemType: ident.default('item_type'),
    itemId: ident.default('item_id'),
    group: ident.default('group'),
    rank: ident.default('rank'),
    active: optional('active'),
    expiresAt: optional('expires_at'),
    /** The values the app stores in itemType for each kind (a Laravel app may store model class names). */
    itemTypes: z
      .object({
        movie: z.string().min(1).default('movie'),
        actor: z.string().min(1).default('actor'),
        tag: z.string().min(1).default('tag'),
      })
      .strict()
      .default({}),
  })
  .strict()
  .default({});

/** Columns of the history table the history sink maintains; null = the app has no such column. */
const historyColumns = z
  .object({
    viewCount: optional('view_count'),
    firstViewedAt: optional('first_viewed_at'),
    lastViewedAt: optional('last_viewed_at'),
    ip: optional('ip'),
    userAgent: optional('user_agent'),
    downloaded: optional('downloaded'),
    downloadCount: optional('download_count'),
    lastDownloadedAt: optional('last_downloaded_at'),
  })
  .strict()
  .default({});

const history = z
  .object({
    table: ident.default('user_jav_history'),
    user: ident.default('user_id'),
    movie: ident.default('jav_id'),
    columns: historyColumns,
  })
  .strict()
  .default({});

/**
 * Likes and ratings as the app stores them: one row per user and movie with a flag and a rating
 * (`columns`, the demo), or one row per user, movie and action (`actions`: action = 'favorite' is a
 * like, action = 'rating' a rating with its stars in `value`).
 */
const interactionShape = z
  .discriminatedUnion('kind', [
    z.object({ kind: z.literal('columns'), liked: ident.default('liked'), rating: optional('rating') }).strict(),
    z
      .object({
        kind: z.literal('actions'),
        action: ident.default('action'),
        like: z.string().min(1).default('favorite'),
        rate: z.string().min(1).default('rating'),
        value: optional('value'),
      })
      .strict(),
  ])
  .default({ kind: 'columns' });

const interactions = z
  .object({
    table: ident.default('user_interactions'),
    user: ident.default('user_id'),
    movie: ident.default('jav_id'),
    shape: interactionShape,
    /** When the row last changed; the backfilled state is as of that time (a later event wins, an older one does not). */
    changedAt: optional('updated_at'),
  })
  .strict()
  .default({});

const watchlists = z
  .object({ table: ident.default('watchlists'), user: ident.default('user_id'), movie: ident.default('jav_id') })
  .strict()
  .default({});

// A top-level field of the movie index (no dots: a partial update with {"a.b": 1} adds a literal
// "a.b" key to the document instead of changing a nested a.b); null = this count is not written.
const searchField = z
  .string()
  .regex(/^[A-Za-z_@][A-Za-z0-9_@-]*$/, 'must be a top-level field name of the movie index (no dots), or null to not write this count')
  .nullable();

export const catalogMappingSchema = z
  .object({
    /** The MySQL database (schema) holding the app's tables; null = MYSQL_URL's database (the demo). Tally's own tables live in MYSQL_URL's database. */
    database: ident.nullable().default(null),
    movies,
    actors: entity('actors'),
    tags: entity('tags'),
    movieActors: z
      .object({ table: ident.default('jav_actors'), movie: ident.default('jav_id'), actor: ident.default('actor_id') })
      .strict()
      .default({}),
    movieTags: z
      .object({ table: ident.default('jav_tags'), movie: ident.default('jav_id'), tag: ident.default('tag_id') })
      .strict()
      .default({}),
    users: z
      .object({ table: ident.default('users'), id: ident.default('id') })
      .strict()
      .default({}),
    featured,
    history,
    interactions,
    watchlists,
    redis: z
      .object({
        /** Prefix of the display keys the app's pages read: `<prefix>views:{id}`, `<prefix>featured:all`, … */
        prefix: z
          .string()
          .regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'must be 1-64 letters, digits, "_", ".", ":" or "-"')
          .default('jav:'),
        /** Time to live of the featured-cache payloads (docs/featured-cache.schema.json). */
        featuredTtlSeconds: z.number().int().min(1).max(86_400).default(600),
      })
      .strict()
      .default({}),
    search: z
      .object({
        movies: z
          .object({
            index: z.string().min(1).default('jav'),
            /** The movie index's fields for each count (null: not in the index, never written). */
            countFields: z
              .object({
                views: searchField.default('views'),
                downloads: searchField.default('downloads'),
                likes: searchField.default('likes'),
              })
              .strict()
              .default({}),
          })
          .strict()
          .default({}),
        actors: z
          .object({ index: z.string().min(1).default('actors') })
          .strict()
          .default({}),
        tags: z
          .object({ index: z.string().min(1).default('tags') })
          .strict()
          .default({}),
      })
      .strict()
      .default({}),
  })
  .strict();

export type CatalogMapping = z.infer<typeof catalogMappingSchema>;

/** The demo schema's mapping (what every default above says). */
export const DEMO_MAPPING: CatalogMapping = catalogMappingSchema.parse({});

/**
 * Parses a mapping document; every problem is named by its path in the document and the reason,
 * e.g. `movies.display.code: must be a MySQL identifier …`.
 */
export function parseCatalogMapping(doc: unknown, source = 'the catalog mapping'): CatalogMapping {
  const r = catalogMappingSchema.safeParse(doc);
  const lines = r.success
    ? sharedColumns(r.data)
    : r.error.issues.map(
        (i) =>
          `  ${i.path.join('.') || '(document)'}: ${i.code === 'unrecognized_keys' ? `unknown ${i.keys.length > 1 ? 'keys' : 'key'} ${i.keys.join(', ')}` : i.message}`,
      );
  if (r.success && lines.length === 0) return r.data;
  throw new TallyError('CATALOG_MAPPING_INVALID', `${source} is invalid:\n${lines.join('\n')}`, { exitCode: 2 });
}

/**
 * A column Tally writes may not be named twice in its table: two counts in one column would add
 * views and downloads together, and a count over a key or display column would overwrite it.
 */
function sharedColumns(m: CatalogMapping): string[] {
  const mv = m.movies;
  const h = m.history;
  const tables: { written: [string, string | null][]; read: [string, string | null][] }[] = [
    {
      written: [
        ...Object.entries(mv.counts).map(([k, v]): [string, string | null] => [`movies.counts.${k}`, v]),
        ['movies.countsUpdatedAt', mv.countsUpdatedAt],
      ],
      read: [['movies.id', mv.id], ...Object.entries(mv.display).map(([k, v]): [string, string | null] => [`movies.display.${k}`, v])],
    },
    {
      written: Object.entries(h.columns).map(([k, v]): [string, string | null] => [`history.columns.${k}`, v]),
      read: [
        ['history.user', h.user],
        ['history.movie', h.movie],
      ],
    },
  ];
  const lines: string[] = [];
  for (const { written, read } of tables) {
    const seen = new Map<string, string>();
    for (const [path, column] of [...read, ...written]) {
      if (column === null) continue;
      const first = seen.get(column);
      if (first !== undefined && written.some(([p]) => p === path))
        lines.push(`  ${path}: names the same column (${column}) as ${first}; a column Tally writes must be its own`);
      else if (first === undefined) seen.set(column, path);
    }
  }
  return lines;
}

/**
 * Tally runs against a web app's own tables whenever a mapping file is set, even one whose
 * `database` is null (the app's tables in MYSQL_URL's database): then Tally never creates, changes
 * or seeds an app table except through `tally adopt apply`. Only with no file does it own the demo
 * schema (creates it in migrations, truncates it in `tally seed`).
 */
export function adoptsApp(config: { CATALOG_MAPPING?: string | undefined }): boolean {
  return config.CATALOG_MAPPING !== undefined;
}

/** The mapping of CATALOG_MAPPING (a JSON file), or the demo mapping when it is not set. */
export function loadCatalogMapping(path: string | undefined): CatalogMapping {
  if (path === undefined) return DEMO_MAPPING;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new TallyError('CATALOG_MAPPING_INVALID', `CATALOG_MAPPING: cannot read ${path}: ${(err as Error).message}`, { exitCode: 2 });
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new TallyError('CATALOG_MAPPING_INVALID', `CATALOG_MAPPING: ${path} is not JSON: ${(err as Error).message}`, { exitCode: 2 });
  }
  return parseCatalogMapping(doc, `CATALOG_MAPPING (${path})`);
}
