#!/usr/bin/env node
import { createElasticsearchClient, createMysql, readiness } from '@tally/clients';
import { configOrExit } from '@tally/config';
import { runJobService } from '@tally/jobs';
import { jobNames } from '@tally/layout';
import { catalogFromConfig, checkCatalogAtStart, type CatalogPart } from '@tally/catalog';
import { loadEsSyncConfig, searchTarget } from './config';

/** The app's tables es-sync reads. */
const ES_SYNC_PARTS: CatalogPart[] = ['movies', 'actors', 'tags', 'movieActors', 'movieTags'];
import { EsSink } from './sink';
import { CatalogSource } from './source';
import { EsSync } from './sync';

const SUMMARY = [
  'Copies MySQL counts to the Elasticsearch jav index (partial updates past a watermark) and rewrites the actors and tags indices. Elasticsearch is never written on a user action.',
  'An index es-sync did not create (no _meta.managed_by "tally-es-sync" in its mapping, e.g. the web app\'s own jav) is never deleted or replaced: only its count fields (the catalog mapping\'s search.movies.countFields) are updated in place, and a foreign actors or tags index is left alone.',
].join('\n\n');

/** Wiring only: config → MySQL and Elasticsearch → sink and source → the shared job service. */
async function main(): Promise<void> {
  const { config, app, target } = configOrExit('es-sync', () => {
    const config = loadEsSyncConfig();
    const app = catalogFromConfig(config);
    return { config, app, target: searchTarget(app.mapping.search) };
  });
  const flags = [
    { name: 'full', description: 'resend the counts of every movie, not only those past the watermark' },
    {
      name: 'reindex',
      description:
        'build the jav, actors and tags indices from MySQL and swap the aliases; refuses (exit 1) a name held by an index es-sync did not create',
    },
    {
      name: 'take-over',
      description:
        "with --reindex: serve Tally's index under a foreign name, keeping the old documents (an alias's indices untouched, a concrete index cloned to <name>_pre_tally_<time>)",
      requires: ['reindex'],
    },
    {
      name: 'init',
      description: 'build only the indices that do not exist yet (neither index nor alias of that name); a no-op otherwise',
      conflicts: ['reindex', 'full'],
    },
  ];
  await runJobService(
    { name: jobNames.esSync, summary: SUMMARY, flags },
    config,
    process.argv.slice(2),
    async ({ metrics, logger, fatal }) => {
      // The job lock holds one connection for the whole run, reads use one more (the next page is
      // read while a bulk is in flight), plus one for readiness probes.
      const db = createMysql({ url: config.MYSQL_URL, poolMax: config.MYSQL_POOL_SIZE });
      const es = createElasticsearchClient({ url: config.ES_URL, flavor: config.ES_FLAVOR });
      const sink = new EsSink(es, { attempts: config.ITEM_RETRIES, backoffMs: config.RETRY_BACKOFF });
      // A mismatched schema stops the service before any run; MySQL down only postpones the check.
      const check = await checkCatalogAtStart(db, app, ES_SYNC_PARTS, { logger, onMismatch: fatal });
      const sync = new EsSync(
        new CatalogSource(db, app),
        sink,
        {
          prefix: config.ES_INDEX_PREFIX,
          target,
          bulkSize: config.BULK_SIZE,
          settleLagMs: config.SETTLE_LAG,
          replicas: config.ES_INDEX_REPLICAS,
        },
        metrics,
      );
      return {
        db,
        resources: [
          { name: 'catalog check', close: () => check.stop() },
          { name: 'mysql', close: () => db.destroy() },
          { name: 'elasticsearch', close: () => es.close() },
        ],
        readiness: [readiness.mysql(db), readiness.elasticsearch(es)],
        run: (ctx) => sync.run(ctx),
      };
    },
  );
}

void main();
