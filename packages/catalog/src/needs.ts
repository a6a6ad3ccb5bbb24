import { METRICS, type Metric } from '@tally/layout';
import type { Catalog, CatalogPart } from './catalog';

/** What a column's type must be for Tally to read or write it. */
export type Kind = 'integer' | 'count' | 'flag' | 'number' | 'string' | 'time' | 'date';

export const KINDS: Record<Kind, readonly string[]> = {
  integer: ['tinyint', 'smallint', 'mediumint', 'int', 'bigint'],
  // A movie's views pass 16.7 M (MEDIUMINT UNSIGNED) long before they pass 4.3 G (INT UNSIGNED).
  count: ['int', 'bigint'],
  flag: ['tinyint', 'smallint', 'mediumint', 'int', 'bigint', 'bit', 'boolean'],
  number: ['tinyint', 'smallint', 'mediumint', 'int', 'bigint', 'decimal', 'float', 'double'],
  string: ['char', 'varchar', 'tinytext', 'text', 'mediumtext', 'longtext', 'enum'],
  time: ['datetime', 'timestamp'],
  date: ['date', 'datetime', 'timestamp', 'char', 'varchar'],
};

export const KIND_TEXT: Record<Kind, string> = {
  integer: 'an integer type',
  count: 'INT or BIGINT',
  flag: 'a boolean/integer type',
  number: 'a numeric type',
  string: 'a string type',
  time: 'DATETIME or TIMESTAMP',
  date: 'DATE, DATETIME, TIMESTAMP or a string',
};

/** Longest value Tally writes: a textual IPv6 address (IPv4-mapped form), and MAX_USER_AGENT_CHARS of @tally/events. */
const IP_CHARS = 45;
const USER_AGENT_CHARS = 512;

/** One column Tally relies on: where the mapping names it, what it must be, and what Tally adds when it is missing. */
export interface ColumnNeed {
  part: CatalogPart;
  /** The mapping path that names it, e.g. `movies.counts.likes`. */
  path: string;
  column: string;
  kind: Kind;
  /** Tally adds to it (`x = x + delta`): NULL would stay NULL. */
  notNull?: boolean;
  /** Tally adds negative deltas (unlikes): an UNSIGNED column fails the whole flush once a sum dips below 0. */
  signed?: boolean;
  /** Tally writes strings up to this many characters; a shorter column fails the insert (strict mode) or truncates. */
  minChars?: number;
  /** Values Tally compares it with; an ENUM column must allow each, or no row ever matches. */
  values?: string[];
  /** The mapping path that names those values. */
  valuesPath?: string;
  /** Tally addresses one row by it (UPDATE … WHERE id, document ids): it must be a primary or unique key by itself. */
  unique?: boolean;
  /** May be mapped to null (Tally does without it). */
  optional?: boolean;
  /** Column definition Tally adds when the column is missing; absent = the app must have it. */
  add?: string;
}

/** Every column of one part that Tally reads or writes, with what it needs of it. */
export function needsOf(c: Catalog, part: CatalogPart): ColumnNeed[] {
  const m = c.mapping;
  const n = (path: string, column: string | null, kind: Kind, more: Partial<ColumnNeed> = {}): ColumnNeed[] =>
    column === null ? [] : [{ part, path, column, kind, ...more }];
  switch (part) {
    case 'movies': {
      const mv = m.movies;
      const count = (metric: Metric) =>
        n(`movies.counts.${metric}`, mv.counts[metric], 'count', {
          notNull: true,
          signed: metric === 'likes',
          add: 'BIGINT NOT NULL DEFAULT 0',
        });
      return [
        ...n('movies.id', mv.id, 'integer', { unique: true }),
        ...n('movies.display.code', mv.display.code, 'string'),
        ...n('movies.display.title', mv.display.title, 'string'),
        ...n('movies.display.provider', mv.display.provider, 'string', { optional: true }),
        ...n('movies.display.release_date', mv.display.release_date, 'date', { optional: true }),
        ...METRICS.flatMap(count),
        ...n('movies.countsUpdatedAt', mv.countsUpdatedAt, 'time', { add: 'DATETIME(3) NULL' }),
      ];
    }
    case 'actors':
    case 'tags':
      return [...n(`${part}.id`, m[part].id, 'integer', { unique: true }), ...n(`${part}.name`, m[part].name, 'string')];
    case 'movieActors':
      return [...n('movieActors.movie', m.movieActors.movie, 'integer'), ...n('movieActors.actor', m.movieActors.actor, 'integer')];
    case 'movieTags':
      return [...n('movieTags.movie', m.movieTags.movie, 'integer'), ...n('movieTags.tag', m.movieTags.tag, 'integer')];
    case 'users':
      return n('users.id', m.users.id, 'integer', { unique: true });
    case 'featured': {
      const f = m.featured;
      return [
        ...n('featured.id', f.id, 'integer', { unique: true }),
        ...n('featured.itemType', f.itemType, 'string', { values: Object.values(f.itemTypes), valuesPath: 'featured.itemTypes' }),
        ...n('featured.itemId', f.itemId, 'integer'),
        ...n('featured.group', f.group, 'string'),
        ...n('featured.rank', f.rank, 'number'),
        ...n('featured.active', f.active, 'flag', { optional: true }),
        ...n('featured.expiresAt', f.expiresAt, 'time', { optional: true }),
      ];
    }
    case 'history': {
      const h = m.history;
      const col = h.columns;
      const opt = { optional: true };
      return [
        ...n('history.user', h.user, 'integer'),
        ...n('history.movie', h.movie, 'integer'),
        ...n('history.columns.viewCount', col.viewCount, 'integer', { ...opt, notNull: true, add: 'INT UNSIGNED NOT NULL DEFAULT 0' }),
        ...n('history.columns.firstViewedAt', col.firstViewedAt, 'time', { ...opt, add: 'DATETIME(3) NULL' }),
        ...n('history.columns.lastViewedAt', col.lastViewedAt, 'time', { ...opt, add: 'DATETIME(3) NULL' }),
        ...n('history.columns.ip', col.ip, 'string', { ...opt, minChars: IP_CHARS, add: `VARCHAR(${IP_CHARS}) NULL` }),
        ...n('history.columns.userAgent', col.userAgent, 'string', {
          ...opt,
          minChars: USER_AGENT_CHARS,
          add: `VARCHAR(${USER_AGENT_CHARS}) NULL`,
        }),
        ...n('history.columns.downloaded', col.downloaded, 'flag', { ...opt, notNull: true, add: 'TINYINT(1) NOT NULL DEFAULT 0' }),
        ...n('history.columns.downloadCount', col.downloadCount, 'integer', {
          ...opt,
          notNull: true,
          add: 'INT UNSIGNED NOT NULL DEFAULT 0',
        }),
        ...n('history.columns.lastDownloadedAt', col.lastDownloadedAt, 'time', { ...opt, add: 'DATETIME(3) NULL' }),
      ];
    }
    case 'interactions': {
      const i = m.interactions;
      const shape =
        i.shape.kind === 'columns'
          ? [
              ...n('interactions.shape.liked', i.shape.liked, 'flag'),
              ...n('interactions.shape.rating', i.shape.rating, 'number', { optional: true }),
            ]
          : [
              ...n('interactions.shape.action', i.shape.action, 'string', {
                values: [i.shape.like, i.shape.rate],
                valuesPath: 'interactions.shape.like/rate',
              }),
              ...n('interactions.shape.value', i.shape.value, 'number', { optional: true }),
            ];
      return [
        ...n('interactions.user', i.user, 'integer'),
        ...n('interactions.movie', i.movie, 'integer'),
        ...shape,
        ...n('interactions.changedAt', i.changedAt, 'time', { optional: true }),
      ];
    }
    case 'watchlists':
      return [...n('watchlists.user', m.watchlists.user, 'integer'), ...n('watchlists.movie', m.watchlists.movie, 'integer')];
  }
}

/** Characters a string column holds (CHAR/VARCHAR: its length; TEXT types: their byte limit, a lower bound). */
export function charCapacity(columnType: string, dataType: string): number {
  const sized = /^(?:var)?char\((\d+)\)/.exec(columnType);
  if (sized) return Number(sized[1]);
  const text: Record<string, number> = { tinytext: 255, text: 65_535, mediumtext: 16_777_215, longtext: 4_294_967_295 };
  return text[dataType] ?? Number.MAX_SAFE_INTEGER;
}

/** The values of an `enum('a','b')` column type ('' is a quote, \\ a backslash), or null for other types. */
export function enumValues(columnType: string): string[] | null {
  const m = /^enum\((.*)\)$/s.exec(columnType);
  if (!m) return null;
  return [...m[1]!.matchAll(/'((?:[^'\\]|''|\\.)*)'/g)].map((v) => v[1]!.replace(/''/g, "'").replace(/\\(.)/g, '$1'));
}
