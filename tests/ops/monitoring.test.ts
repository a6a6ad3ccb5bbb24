import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createTempDatabase, migrateLatest, MIGRATIONS_TABLE, TALLY_TABLES, type TempDatabase } from '@tally/db';
import { env, eventually, uniqueName } from '../helpers/env';
import { isolatedTopics } from '../helpers/pipeline';
import { ServiceProcess } from '../helpers/process';
import { testPort } from '../helpers/services';

const ROOT = resolve(__dirname, '../..');
const read = (p: string) => readFileSync(resolve(ROOT, p), 'utf8');

/** Metric names a PromQL text refers to, without the histogram series suffixes. */
// Tally's own tables (tally_forgotten, tally_migrations, …) share the prefix; they are not metrics.
const TABLES = new Set<string>([...TALLY_TABLES, MIGRATIONS_TABLE]);

function metricNames(text: string): Set<string> {
  return new Set([...text.matchAll(/\btally_[a-z0-9_]*[a-z0-9]\b/g)].map((m) => m[0].replace(/_(bucket|sum|count)$/, '')).filter((n) => !TABLES.has(n)));
}

describe('monitoring assets are built on the metric names the services really export', () => {
  let tmp: TempDatabase;
  const procs: ServiceProcess[] = [];
  const exported = new Set<string>();

  beforeAll(async () => {
    const names = isolatedTopics();
    tmp = await createTempDatabase(env.MYSQL_URL, 'tally_test_ops');
    await migrateLatest(tmp.db);
    const common = { LOG_LEVEL: 'warn', TOPIC_PREFIX: names.prefix, MYSQL_URL: tmp.url, REDIS_URL: `${env.REDIS_URL}/13`, MONGO_URL: `mongodb://127.0.0.1:27017/${uniqueName('ops')}`, ES_INDEX_PREFIX: `${uniqueName('ops')}_`, RUN_ON_START: 'false' };
    const base = testPort(24_000);
    const services: [string, number, Record<string, string>][] = [
      ['ingest-api', base, { PORT: String(base) }],
      ['event-logger', base + 1, { MANAGEMENT_PORT: String(base + 1), GROUP_ID: uniqueName('ops-el') }],
      ['counter', base + 2, { MANAGEMENT_PORT: String(base + 2), GROUP_ID: uniqueName('ops-c') }],
      ['history', base + 3, { MANAGEMENT_PORT: String(base + 3), GROUP_ID: uniqueName('ops-h') }],
      ['flusher', base + 4, { MANAGEMENT_PORT: String(base + 4) }],
      ['es-sync', base + 5, { MANAGEMENT_PORT: String(base + 5) }],
      ['snapshot-builder', base + 6, { MANAGEMENT_PORT: String(base + 6) }],
      ['query-api', base + 7, { PORT: String(base + 7) }],
      ['retention', base + 8, { MANAGEMENT_PORT: String(base + 8) }],
    ];
    for (const [name, , extra] of services) procs.push(new ServiceProcess(`services/${name}/dist/main.js`, { ...common, ...extra }));
    for (const [name, port] of services) {
      const text = await eventually(async () => {
        const res = await fetch(`http://127.0.0.1:${port}/metrics`);
        return res.ok ? res.text() : undefined;
      }, 60_000, `${name} /metrics on ${port}`);
      for (const m of text.matchAll(/^# TYPE (\S+) /gm)) exported.add(m[1]!);
    }
  }, 120_000);

  afterAll(async () => {
    await Promise.all(procs.map((p) => p.kill()));
    await tmp.drop();
  });

  it('every metric in the alert rules exists', () => {
    const used = metricNames(read('ops/prometheus/alerts.yml'));
    expect(used.size).toBeGreaterThan(10);
    expect([...used].filter((n) => !exported.has(n))).toEqual([]);
  });

  it('every metric in the Grafana dashboard exists', () => {
    const dash = JSON.parse(read('ops/grafana/tally-dashboard.json')) as { panels: { targets: { expr: string }[] }[] };
    const used = metricNames(dash.panels.flatMap((p) => p.targets.map((t) => t.expr)).join('\n'));
    expect(used.size).toBeGreaterThan(20);
    expect([...used].filter((n) => !exported.has(n))).toEqual([]);
  });

  it('every metric named in docs/operations.md exists', () => {
    const used = metricNames(read('docs/operations.md'));
    expect(used.size).toBeGreaterThan(15);
    expect([...used].filter((n) => !exported.has(n))).toEqual([]);
  });
});
