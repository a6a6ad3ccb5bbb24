export { catalogMappingSchema, parseCatalogMapping, loadCatalogMapping, adoptsApp, DEMO_MAPPING, type CatalogMapping } from './mapping';
export { Catalog, DEMO_CATALOG, MOVIE_DISPLAY_FIELDS, q, type CatalogPart, type MovieDisplayField } from './catalog';
export {
  checkCatalog,
  formatReport,
  ALL_PARTS,
  COUNTS_INDEX,
  HISTORY_UNIQUE_INDEX,
  type CatalogReport,
  type CatalogProblem,
  type DdlStep,
} from './check';
export {
  applyAdoption,
  rollbackAdoption,
  adoptedObjects,
  assertCatalog,
  ADOPTION_TABLE,
  type AdoptedObject,
  type ApplyResult,
} from './adopt';
export { introspect, type LiveTable, type LiveColumn, type LiveIndex } from './introspect';
export { backfillUserState, USER_STATE_UPSERT_TAIL, type BackfillReport, type BackfillRedis } from './backfill';
export { catalogFromConfig, checkCatalogAtStart, type CatalogStartCheck } from './start';
