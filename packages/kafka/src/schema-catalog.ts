import { eventDefinitions, topicNames } from '@tally/events';
import type { CatalogSchema } from './codec';

/**
 * Every event schema under its subject for `topicPrefix`, in catalog order — the order `tally setup`
 * registers them in. Each service registers this whole list in this order (not only the topics it
 * reads), so on an empty registry the schemas get the ids they had before (see RegistryCodec).
 */
export function eventSchemaCatalog(topicPrefix: string): CatalogSchema[] {
  const names = topicNames(topicPrefix);
  return eventDefinitions().map((d) => ({ subject: names.subjectFor(d.type), schema: d.avroSchema }));
}
