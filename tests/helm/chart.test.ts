import type { ZodTypeAny } from 'zod';
import { baseConfigSchema } from '@tally/config';
import { eventLoggerConfigSchema } from '@tally/event-logger/config';
import { counterConfigSchema } from '@tally/counter/config';
import { historyConfigSchema } from '@tally/history/config';
import { flusherConfigSchema } from '@tally/flusher/config';
import { esSyncConfigSchema } from '@tally/es-sync/config';
import { snapshotBuilderConfigSchema } from '@tally/snapshot-builder/config';
import { retentionConfigSchema } from '@tally/retention/config';
import { ingestConfigSchema, loadIngestConfig } from '@tally/ingest-api/config';
import { queryConfigSchema } from '@tally/query-api/config';
import { loadConfig } from '@tally/config';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import {
  CHART,
  EXISTING_SERVERS,
  byComponent,
  envNames,
  helm,
  helmBinary,
  ofKind,
  podSpec,
  render,
  resolvedEnv,
  type Manifest,
} from './render';

// The chart's services, the port that serves their probes and metrics, and the zod schema their
// environment must satisfy (the same one main.ts parses at start).
const SERVICES: Record<string, { port: number; kind: 'api' | 'consumer' | 'scheduler'; schema: ZodTypeAny }> = {
  'ingest-api': { port: 8080, kind: 'api', schema: ingestConfigSchema },
  'query-api': { port: 8090, kind: 'api', schema: queryConfigSchema },
  'event-logger': { port: 9101, kind: 'consumer', schema: eventLoggerConfigSchema },
  counter: { port: 9102, kind: 'consumer', schema: counterConfigSchema },
  history: { port: 9103, kind: 'consumer', schema: historyConfigSchema },
  flusher: { port: 9104, kind: 'scheduler', schema: flusherConfigSchema },
  'es-sync': { port: 9105, kind: 'scheduler', schema: esSyncConfigSchema },
  'snapshot-builder': { port: 9106, kind: 'scheduler', schema: snapshotBuilderConfigSchema },
  retention: { port: 9107, kind: 'scheduler', schema: retentionConfigSchema },
};
const CONSUMERS = ['event-logger', 'counter', 'history'];
const SECRET_NAMES = ['MYSQL_URL', 'REDIS_URL', 'MONGO_URL', 'ES_URL', 'BROWSER_KEYS', 'SERVER_KEYS', 'ADMIN_TOKENS', 'USER_TOKEN_SECRETS'];
const PARTITIONS = (JSON.parse(readFileSync(`${CHART}/../../../schemas/topics.json`, 'utf8')) as { defaults: { partitions: number } })
  .defaults.partitions;

/** The variable names a zod schema declares (through superRefine's wrapper). */
function schemaKeys(schema: ZodTypeAny): string[] {
  let s: ZodTypeAny = schema;
  while (s._def.typeName === 'ZodEffects') s = s._def.schema as ZodTypeAny;
  return Object.keys((s as unknown as { shape: Record<string, unknown> }).shape);
}

const existingValues = parse(readFileSync(EXISTING_SERVERS, 'utf8')) as {
  secrets: Record<string, string>;
  servers: Record<string, string>;
};
let defaults: Manifest[];
let existing: Manifest[];

beforeAll(() => {
  helmBinary(); // built once (scripts/install-helm.sh), then cached
  defaults = render();
  existing = render(['-f', EXISTING_SERVERS]);
}, 900_000);

describe('deploy/helm/tally', () => {
  it('passes helm lint with the default values and with existing servers + KEDA', () => {
    // scripts/install-helm.sh's build, stamped like a release (else it renders for Kubernetes 1.20)
    expect(helm(['version', '--template', '{{.Version}}']).stdout).toBe('v3.21.4');
    for (const args of [[], ['-f', EXISTING_SERVERS]]) {
      const r = helm(['lint', CHART, ...args]);
      expect(`${r.stdout}${r.stderr}`).not.toContain('[ERROR]');
      expect(r.status).toBe(0);
    }
  });

  it.each([['defaults'], ['existing servers']])(
    'renders a Deployment per service with its labels, probes, annotations and resources (%s)',
    (which) => {
      const ms = which === 'defaults' ? defaults : existing;
      const deployments = byComponent(ms, 'Deployment');
      expect([...deployments.keys()].sort()).toEqual(Object.keys(SERVICES).sort());
      for (const [name, { port, kind }] of Object.entries(SERVICES)) {
        const d = deployments.get(name)!;
        const labels = d.spec!.template!.metadata.labels;
        expect(labels).toMatchObject({
          'app.kubernetes.io/name': 'tally',
          'app.kubernetes.io/instance': 'tally',
          'app.kubernetes.io/component': name,
        });
        expect(d.spec!.selector!.matchLabels).toEqual({
          'app.kubernetes.io/name': 'tally',
          'app.kubernetes.io/instance': 'tally',
          'app.kubernetes.io/component': name,
        });
        expect(d.spec!.template!.metadata.annotations).toMatchObject({
          'prometheus.io/scrape': 'true',
          'prometheus.io/port': String(port),
          'prometheus.io/path': '/metrics',
        });
        const [c, ...others] = podSpec(d).containers;
        expect(others).toHaveLength(0);
        expect(c!.command).toEqual(['node', `services/${name}/dist/main.js`]);
        // Named ports resolve to the service's own port, which its environment also names.
        const portOf = (p: string | number) => (typeof p === 'number' ? p : c!.ports!.find((x) => x.name === p)?.containerPort);
        expect({
          liveness: c!.livenessProbe!.httpGet.path,
          readiness: c!.readinessProbe!.httpGet.path,
          startup: c!.startupProbe!.httpGet.path,
        }).toEqual({ liveness: '/healthz', readiness: '/readyz', startup: '/healthz' });
        for (const p of [c!.livenessProbe!, c!.readinessProbe!, c!.startupProbe!]) expect(portOf(p.httpGet.port)).toBe(port);
        const env = resolvedEnv(c!, ms);
        if (kind === 'api') expect({ HOST: env.HOST, PORT: env.PORT }).toEqual({ HOST: '0.0.0.0', PORT: String(port) });
        else
          expect({ MANAGEMENT_HOST: env.MANAGEMENT_HOST, MANAGEMENT_PORT: env.MANAGEMENT_PORT }).toEqual({
            MANAGEMENT_HOST: '0.0.0.0',
            MANAGEMENT_PORT: String(port),
          });
        for (const side of ['requests', 'limits'] as const)
          expect(Object.keys(c!.resources?.[side] ?? {}).sort()).toEqual(['cpu', 'memory']);
      }
      for (const job of ofKind(ms, 'Job'))
        for (const c of podSpec(job).containers) expect(Object.keys(c.resources?.limits ?? {}).sort()).toEqual(['cpu', 'memory']);
    },
  );

  it('gives every Deployment a PodDisruptionBudget selecting exactly its pods, and Services to the two APIs', () => {
    for (const ms of [defaults, existing]) {
      const pdbs = byComponent(ms, 'PodDisruptionBudget');
      for (const [name, d] of byComponent(ms, 'Deployment')) {
        expect(pdbs.get(name)?.spec?.selector?.matchLabels).toEqual(d.spec!.selector!.matchLabels);
        expect(pdbs.get(name)?.spec).toHaveProperty('maxUnavailable', 1);
      }
      expect(pdbs.size).toBe(Object.keys(SERVICES).length);
      const services = byComponent(ms, 'Service');
      expect([...services.keys()].sort()).toEqual(['ingest-api', 'query-api']);
      expect(services.get('ingest-api')!.spec).toMatchObject({
        ports: [{ port: 8080, targetPort: 'http' }],
        selector: { 'app.kubernetes.io/component': 'ingest-api' },
      });
    }
  });

  it('gives each service only settings its config schema declares, and they parse in production', () => {
    for (const ms of [defaults, existing]) {
      for (const [name, { schema }] of Object.entries(SERVICES)) {
        const c = podSpec(byComponent(ms, 'Deployment').get(name)!).containers[0]!;
        const keys = schemaKeys(schema);
        expect(envNames(c, ms).filter((n) => !keys.includes(n))).toEqual([]);
        const env = resolvedEnv(c, ms);
        expect(env.NODE_ENV).toBe('production');
        // What main.ts does at start: the service would refuse to run on a ConfigError.
        expect(() => (name === 'ingest-api' ? loadIngestConfig(env) : loadConfig(schema, env))).not.toThrow();
      }
    }
    const counter = resolvedEnv(podSpec(byComponent(existing, 'Deployment').get('counter')!).containers[0]!, existing);
    expect(counter).toMatchObject({
      GROUP_ID: 'prod-tally-counter',
      DEDUP_WINDOW_SECONDS: '900',
      TOPIC_PREFIX: 'prod.tally.',
      KAFKA_BROKERS: existingValues.servers.kafkaBrokers,
    });
    const query = resolvedEnv(podSpec(byComponent(existing, 'Deployment').get('query-api')!).containers[0]!, existing);
    expect(query).toMatchObject({
      CONSUMER_GROUPS: 'tally-event-logger,prod-tally-counter,tally-history',
      ES_INDEX_PREFIX: 'prod-',
      ADMIN_TOKENS: existingValues.secrets.adminTokens,
    });
  });

  it('uses the consumer groups the services default to', () => {
    for (const name of CONSUMERS) {
      const env = resolvedEnv(podSpec(byComponent(defaults, 'Deployment').get(name)!).containers[0]!, defaults);
      expect(env.GROUP_ID).toBe(loadConfig(SERVICES[name]!.schema, {}).GROUP_ID);
    }
  });

  it('keeps keys, tokens and connection URLs in Secret objects only', () => {
    const secretValues = [
      ...Object.values(existingValues.secrets),
      ...['mysqlUrl', 'redisUrl', 'mongoUrl', 'esUrl'].map((k) => existingValues.servers[k]!),
    ];
    for (const m of existing) {
      const text = JSON.stringify(m);
      if (m.kind === 'Secret') continue;
      for (const v of [...secretValues, ...secretValues.map((s) => Buffer.from(s).toString('base64'))])
        expect({ object: `${m.kind}/${m.metadata.name}`, leaks: text.includes(v) }).toEqual({
          object: `${m.kind}/${m.metadata.name}`,
          leaks: false,
        });
    }
    for (const ms of [defaults, existing]) {
      for (const cm of ofKind(ms, 'ConfigMap')) expect(Object.keys(cm.data ?? {}).filter((k) => SECRET_NAMES.includes(k))).toEqual([]);
      for (const w of [...ofKind(ms, 'Deployment'), ...ofKind(ms, 'Job')]) {
        for (const c of podSpec(w).containers) {
          for (const e of c.env ?? [])
            if (SECRET_NAMES.includes(e.name)) expect({ name: e.name, literal: e.value }).toEqual({ name: e.name, literal: undefined });
        }
      }
    }
    // Unset keys are generated (and kept across upgrades by the template's lookup), never empty.
    const generated = ofKind(defaults, 'Secret')[0]!.data!;
    for (const k of ['BROWSER_KEYS', 'SERVER_KEYS', 'ADMIN_TOKENS'])
      expect(Buffer.from(generated[k]!, 'base64').toString().length).toBeGreaterThanOrEqual(12);
    expect(generated).not.toHaveProperty('USER_TOKEN_SECRETS');
  });

  it('reads every key from an existing Secret when named, and creates none', () => {
    const ms = render(['-f', EXISTING_SERVERS, '--set', 'secrets.existingSecret=tally-prod-keys']);
    expect(ofKind(ms, 'Secret')).toEqual([]);
    const refs = [...ofKind(ms, 'Deployment'), ...ofKind(ms, 'Job')].flatMap((w) =>
      podSpec(w).containers.flatMap((c) => (c.env ?? []).flatMap((e) => (e.valueFrom?.secretKeyRef ? [e.valueFrom.secretKeyRef] : []))),
    );
    expect(new Set(refs.map((r) => r.name))).toEqual(new Set(['tally-prod-keys']));
    expect(new Set(refs.map((r) => r.key))).toEqual(new Set(SECRET_NAMES));
    expect(refs.filter((r) => r.optional).map((r) => r.key)).toEqual(['USER_TOKEN_SECRETS']);
  });

  it('refuses a key or token given as a literal service setting', () => {
    const r = helm(['template', 'tally', CHART, '--set', 'services.counter.env.MYSQL_URL=mysql://u:p@h/db']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('services.counter.env.MYSQL_URL: keys, tokens and connection URLs go into the Secret');
  });

  it('mounts the catalog mapping from a ConfigMap and names the file in CATALOG_MAPPING', () => {
    const cm = ofKind(existing, 'ConfigMap').find((m) => m.metadata.name === 'tally-catalog')!;
    expect(cm.data).toEqual({ 'catalog-mapping.json': '{"version":1}' });
    for (const w of [...ofKind(existing, 'Deployment'), ...ofKind(existing, 'Job')]) {
      const spec = podSpec(w);
      const c = spec.containers[0]!;
      expect(resolvedEnv(c, existing).CATALOG_MAPPING).toBe('/etc/tally/catalog/catalog-mapping.json');
      expect(c.volumeMounts).toContainEqual(expect.objectContaining({ name: 'catalog-mapping', mountPath: '/etc/tally/catalog' }));
      expect(spec.volumes).toContainEqual(expect.objectContaining({ name: 'catalog-mapping', configMap: { name: 'tally-catalog' } }));
    }
    expect(resolvedEnv(podSpec(byComponent(defaults, 'Deployment').get('counter')!).containers[0]!, defaults)).not.toHaveProperty(
      'CATALOG_MAPPING',
    );
  });

  it('scales the three consumers with KEDA on their group lag, never past the partitions', () => {
    expect(ofKind(defaults, 'ScaledObject')).toEqual([]);
    for (const name of CONSUMERS) expect(byComponent(defaults, 'Deployment').get(name)!.spec!.replicas).toBe(1);
    const scaled = byComponent(existing, 'ScaledObject');
    expect([...scaled.keys()].sort()).toEqual([...CONSUMERS].sort());
    for (const name of CONSUMERS) {
      const so = scaled.get(name)!.spec as {
        scaleTargetRef: { name: string };
        minReplicaCount: number;
        maxReplicaCount: number;
        triggers: { type: string; metadata: Record<string, string> }[];
      };
      const deployment = byComponent(existing, 'Deployment').get(name)!;
      expect(so.scaleTargetRef.name).toBe(deployment.metadata.name);
      expect(deployment.spec).not.toHaveProperty('replicas'); // KEDA's HPA owns it; an upgrade must not reset it
      expect(so.minReplicaCount).toBeGreaterThanOrEqual(1);
      expect(so.maxReplicaCount).toBeLessThanOrEqual(PARTITIONS);
      expect(so.triggers).toHaveLength(1);
      const env = resolvedEnv(podSpec(deployment).containers[0]!, existing);
      expect(so.triggers[0]).toMatchObject({
        type: 'kafka',
        metadata: { bootstrapServers: env.KAFKA_BROKERS, consumerGroup: env.GROUP_ID },
      });
      expect(Number(so.triggers[0]!.metadata.lagThreshold)).toBeGreaterThan(0);
    }
    expect(scaled.get('history')!.spec).toMatchObject({ maxReplicaCount: PARTITIONS }); // unset: the partitions
    expect(scaled.get('counter')!.spec).toMatchObject({
      minReplicaCount: 2,
      maxReplicaCount: 4,
      triggers: [{ metadata: { topic: 'prod.tally.movie.viewed', lagThreshold: '2000' } }],
    });
  });

  it.each([
    [
      'keda.consumers.counter.maxReplicaCount=7',
      `keda.consumers.counter.maxReplicaCount is 7, more than the topics' ${PARTITIONS} partitions`,
    ],
    [
      'keda.consumers.counter.minReplicaCount=5,keda.consumers.counter.maxReplicaCount=3',
      'keda.consumers.counter.minReplicaCount (5) exceeds maxReplicaCount (3)',
    ],
    // values.schema.json: checked before any template runs
    ['keda.consumers.history.minReplicaCount=0', "at '/keda/consumers/history/minReplicaCount': minimum: got 0, want 1"],
    ['services.countr.enabled=true', "at '/services': additional properties 'countr' not allowed"],
    ['services.flusher.resources=null', "at '/services/flusher'"],
  ])('refuses %s with a clear message', (setting, message) => {
    const r = helm(['template', 'tally', CHART, '--set', 'keda.enabled=true', '--set', setting]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(message);
  });

  it('runs migrate, setup and es-sync --init in one hook Job, like compose', () => {
    const [job, ...more] = ofKind(existing, 'Job');
    expect(more).toHaveLength(0);
    expect(job!.metadata.annotations).toMatchObject({ 'helm.sh/hook': 'post-install,pre-upgrade' });
    const c = podSpec(job!).containers[0]!;
    const script = c.command!.join(' ');
    expect(script).toMatch(
      /node packages\/cli\/dist\/bin\.js migrate &&\s+node packages\/cli\/dist\/bin\.js setup &&\s+node services\/es-sync\/dist\/main\.js --init/,
    );
    expect(script).not.toContain('--reindex');
    const keys = [...new Set([...schemaKeys(baseConfigSchema), ...schemaKeys(esSyncConfigSchema)])];
    expect(envNames(c, existing).filter((n) => !keys.includes(n))).toEqual([]);
    expect(() => loadConfig(esSyncConfigSchema, resolvedEnv(c, existing))).not.toThrow();
  });
});
