import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createTempDatabase, migrateLatest, MIGRATIONS_TABLE, TALLY_TABLES, type TempDatabase } from '@tally/db';
import { env, eventually, uniqueName } from '../helpers/env';
import { isolatedTopics } from '../helpers/pipeline';
import { ServiceProcess } from '../helpers/process';
import { testPort } from '../helpers/services';

const ROOT = resolve(__dirname, '../..');
const read = (p: string) => readFileSync(resolve(ROOT, p), 'utf8');

// Tally's own tables (tally_forgotten, tally_migrations, …) share the prefix; they are not metrics.
const TABLES = new Set<string>([...TALLY_TABLES, MIGRATIONS_TABLE]);

/** Metric names (Tally's and the standard process ones) a text refers to, without the histogram series suffixes. */
function metricNames(text: string): Set<string> {
  return new Set(
    [...text.matchAll(/\b(?:tally|process|nodejs)_[a-z0-9_]*[a-z0-9]\b/g)]
      .map((m) => m[0].replace(/_(bucket|sum|count)$/, ''))
      .filter((n) => !TABLES.has(n)),
  );
}

/**
 * The problems `promtool check metrics` finds in an exposition: tools/promlint runs the same linter
 * (client_golang's testutil/promlint, the version promtool pins) and scripts/build-promlint.sh builds
 * it once; the real promtool gives the same answers (checked by hand with a promtool v0.316.0 build).
 */
function promlint(exposition: string): string {
  const bin = execFileSync('bash', [resolve(ROOT, 'scripts/build-promlint.sh')], { encoding: 'utf8' }).trim();
  try {
    execFileSync(bin, { input: exposition, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
    return '';
  } catch (err) {
    const e = err as { status?: number; stdout?: string; stderr?: string };
    return `exit ${e.status}: ${e.stdout ?? ''}${e.stderr ?? ''}`;
  }
}

describe('monitoring assets are built on the metric names the services really export', () => {
  let tmp: TempDatabase;
  const procs: ServiceProcess[] = [];
  const exported = new Set<string>();
  const expositions = new Map<string, string>();

  beforeAll(async () => {
    const names = isolatedTopics();
    tmp = await createTempDatabase(env.MYSQL_URL, 'tally_test_ops');
    await migrateLatest(tmp.db);
    const common = {
      LOG_LEVEL: 'warn',
      TOPIC_PREFIX: names.prefix,
      MYSQL_URL: tmp.url,
      REDIS_URL: `${env.REDIS_URL}/13`,
      MONGO_URL: `mongodb://127.0.0.1:27017/${uniqueName('ops')}`,
      ES_INDEX_PREFIX: `${uniqueName('ops')}_`,
      RUN_ON_START: 'false',
    };
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
      const text = await eventually(
        async () => {
          const res = await fetch(`http://127.0.0.1:${port}/metrics`);
          return res.ok ? res.text() : undefined;
        },
        60_000,
        `${name} /metrics on ${port}`,
      );
      expositions.set(name, text);
      for (const m of text.matchAll(/^# TYPE (\S+) /gm)) exported.add(m[1]!);
    }
  }, 120_000);

  afterAll(async () => {
    await Promise.all(procs.map((p) => p.kill()));
    await tmp.drop();
  });

  // promtool check metrics: naming (no type in the name, `_total` on counters only, units as suffixes,
  // base units), help text, no duplicates; nothing to say about any service.
  it("every service's /metrics passes promtool's metrics linter", () => {
    expect(expositions.size).toBe(9);
    const problems = Object.fromEntries([...expositions].map(([name, text]) => [name, promlint(text)]));
    expect(problems).toEqual(Object.fromEntries([...expositions.keys()].map((name) => [name, ''])));
  });

  it('one name per measure: every series carries its service, and shared names keep one type', () => {
    const types = new Map<string, Set<string>>();
    for (const [name, text] of expositions) {
      const samples = text.split('\n').filter((l) => l && !l.startsWith('#'));
      expect(samples.filter((l) => !l.includes(`service="${name}"`))).toEqual([]);
      for (const m of text.matchAll(/^# TYPE (\S+) (\S+)/gm)) types.set(m[1]!, (types.get(m[1]!) ?? new Set()).add(m[2]!));
      expect(text).toMatch(/^process_cpu_seconds_total\{/m);
      expect(text).toMatch(/^nodejs_heap_size_used_bytes\{/m);
    }
    expect([...types].filter(([, t]) => t.size > 1)).toEqual([]);
    // The consumers share the runner's measures under one name.
    for (const n of ['tally_consumer_lag_messages', 'tally_messages_processed_total', 'tally_event_freshness_seconds']) {
      expect(['event-logger', 'counter', 'history'].filter((s) => !expositions.get(s)!.includes(`# TYPE ${n} `))).toEqual([]);
    }
  });

  it('every metric in the alert rules exists', () => {
    const used = metricNames(read('ops/prometheus/alerts.yml'));
    expect(used.size).toBeGreaterThan(8); // one name per measure: lag is one name for three consumers
    expect([...used].filter((n) => !exported.has(n))).toEqual([]);
  });

  it('every metric in the Grafana dashboard exists', () => {
    const dash = JSON.parse(read('ops/grafana/tally-dashboard.json')) as { panels: { targets: { expr: string }[] }[] };
    const used = metricNames(dash.panels.flatMap((p) => p.targets.map((t) => t.expr)).join('\n'));
    expect(used.size).toBeGreaterThan(20);
    expect(used).toContain('process_resident_memory_bytes');
    expect([...used].filter((n) => !exported.has(n))).toEqual([]);
  });

  it('every metric named in docs/operations.md exists', () => {
    const used = metricNames(read('docs/operations.md'));
    expect(used.size).toBeGreaterThan(15);
    expect([...used].filter((n) => !exported.has(n))).toEqual([]);
  });
});
