import type { CatalogPart } from './catalog';

/** The index es-sync walks with `(counts_updated_at, id) > watermark`; Tally adds it when missing. */
export const COUNTS_INDEX = 'jav_counts_updated_at_id_idx';
/** The unique key the history sink's upsert needs, when the app's table has none on (user, movie). */
export const HISTORY_UNIQUE_INDEX = 'tally_history_user_movie_unique';

export interface CatalogProblem {
  part: CatalogPart;
  table: string;
  column?: string;
  /**
   * missing_table, missing_column, type, nullable, signed, length, values, unique_key, index,
   * duplicates, insert_default; for warnings: on_update, unmapped_values.
   */
  rule: string;
  message: string;
  fix: string;
}

/** One additive DDL statement `tally adopt apply` would run. */
export interface DdlStep {
  part: CatalogPart;
  table: string;
  objectKind: 'column' | 'index';
  objectName: string;
  sql: string;
  why: string;
}

export interface CatalogReport {
  database: string;
  /** `table.column` (or `table (key)`) that exist and match. */
  matches: string[];
  /** What only the app team can fix (or a mapping change); Tally's services refuse to start while any is left. */
  problems: CatalogProblem[];
  /** Side effects the app team should know of, that do not stop Tally (not counted by `tally adopt check`'s exit code). */
  warnings: CatalogProblem[];
  ddl: DdlStep[];
}
