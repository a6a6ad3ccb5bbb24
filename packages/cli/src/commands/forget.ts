import { userInfo } from 'node:os';
import { createMongo, createMysql, createRedis } from '@tally/clients';
import { Catalog, loadCatalogMapping } from '@tally/catalog';
import { RegistryCodec } from '@tally/kafka';
import { describeSubject, forget, type Subject } from '@tally/privacy';
import type { CliConfig } from '../context';

const out = (line = '') => process.stdout.write(`${line}\n`);

/**
 * `tally forget --user <id> | --ip <addr>`: the tombstone, then every store swept (twice, `settleMs`
 * apart), then what was removed, per store. The same operation as POST /v1/admin/forget.
 */
export async function forgetCommand(config: CliConfig, subject: Subject, o: { json: boolean; settleMs: number }): Promise<number> {
  const db = createMysql({ url: config.MYSQL_URL, poolMax: 2 });
  const redis = createRedis({ url: config.REDIS_URL, connectionName: 'tally-forget' });
  const mongo = createMongo({ url: config.MONGO_URL });
  const codec = new RegistryCodec(config.SCHEMA_REGISTRY_URL);
  try {
    await mongo.connect();
    const catalog = new Catalog(loadCatalogMapping(config.CATALOG_MAPPING));
    const report = await forget({ db, catalog, redis, mongo: mongo.db(), decode: async (v) => (await codec.decode(v)).value }, subject, {
      requestedBy: `cli:${userInfo().username}`,
      settleMs: o.settleMs,
    });
    if (o.json) {
      out(JSON.stringify(report));
      return 0;
    }
    out(
      `forgot ${describeSubject(subject)}${report.alreadyForgotten ? ' (forgotten before; swept again)' : ''} — audit #${report.auditId}`,
    );
    const entries = Object.entries(report.removed);
    if (entries.length === 0) out('  nothing of theirs was stored');
    for (const [store, n] of entries) out(`  ${store}: ${n}`);
    out('From now on every sink skips their events (replays and late events included); aggregate counts stay.');
    return 0;
  } finally {
    redis.disconnect();
    await mongo.close();
    await db.destroy();
  }
}
