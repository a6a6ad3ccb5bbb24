import { execFileSync, spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';

/** Helpers of tests/helm: helm itself (scripts/install-helm.sh), rendering and reading manifests. */
export const ROOT = resolve(__dirname, '../..');
export const CHART = resolve(ROOT, 'deploy/helm/tally');
export const EXISTING_SERVERS = resolve(CHART, 'ci/existing-servers-values.yaml');

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string; optional?: boolean }; configMapKeyRef?: { name: string; key: string } };
}
export interface Probe {
  httpGet: { path: string; port: string | number };
}
export interface Container {
  name: string;
  image: string;
  command?: string[];
  ports?: { name: string; containerPort: number }[];
  env?: EnvVar[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  startupProbe?: Probe;
  volumeMounts?: { name: string; mountPath: string }[];
}
export interface PodSpec {
  containers: Container[];
  volumes?: { name: string; configMap?: { name: string } }[];
}
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: {
    replicas?: number;
    selector?: { matchLabels: Record<string, string> };
    template?: { metadata: { labels: Record<string, string>; annotations?: Record<string, string> }; spec: PodSpec };
    [key: string]: unknown;
  };
  data?: Record<string, string>;
}

/** The helm binary, built once from the Go module proxy and cached (instant when it is). */
export function helmBinary(): string {
  return execFileSync('bash', [resolve(ROOT, 'scripts/install-helm.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
}

export function helm(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(helmBinary(), args, { encoding: 'utf8', cwd: ROOT });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** `helm template` of the chart with these extra arguments, parsed; throws with helm's message if it fails. */
export function render(extra: string[] = []): Manifest[] {
  const r = helm(['template', 'tally', CHART, '--namespace', 'tally', ...extra]);
  if (r.status !== 0) throw new Error(`helm template failed: ${r.stderr}`);
  return parseAllDocuments(r.stdout)
    .map((d) => d.toJS() as Manifest | null)
    .filter((m): m is Manifest => m !== null);
}

export const ofKind = (ms: Manifest[], kind: string) => ms.filter((m) => m.kind === kind);
export const component = (m: Manifest) => m.metadata.labels?.['app.kubernetes.io/component'] ?? '';

export function byComponent(ms: Manifest[], kind: string): Map<string, Manifest> {
  return new Map(ofKind(ms, kind).map((m) => [component(m), m]));
}

export function podSpec(m: Manifest): PodSpec {
  const spec = m.spec?.template?.spec;
  if (!spec) throw new Error(`${m.kind} ${m.metadata.name} has no pod template`);
  return spec;
}

/**
 * The environment a container really gets: envFrom ConfigMaps and Secrets, then env entries (literal,
 * or from the rendered Secret/ConfigMap), later names winning as in Kubernetes.
 */
export function resolvedEnv(c: Container, ms: Manifest[]): Record<string, string> {
  const find = (kind: string, name: string) => ms.find((m) => m.kind === kind && m.metadata.name === name);
  const secretValue = (name: string, key: string): string | undefined => {
    const data = find('Secret', name)?.data?.[key];
    return data === undefined ? undefined : Buffer.from(data, 'base64').toString('utf8');
  };
  const env: Record<string, string> = {};
  for (const from of c.envFrom ?? []) {
    if (from.configMapRef) Object.assign(env, find('ConfigMap', from.configMapRef.name)?.data ?? {});
    if (from.secretRef) {
      const data = find('Secret', from.secretRef.name)?.data ?? {};
      for (const k of Object.keys(data)) env[k] = secretValue(from.secretRef.name, k)!;
    }
  }
  for (const e of c.env ?? []) {
    const ref = e.valueFrom?.secretKeyRef;
    const cm = e.valueFrom?.configMapKeyRef;
    const value = e.value ?? (ref ? secretValue(ref.name, ref.key) : cm ? find('ConfigMap', cm.name)?.data?.[cm.key] : undefined);
    if (value !== undefined) env[e.name] = value;
  }
  return env;
}

/** Every variable name a container gets, whether or not it resolves here. */
export function envNames(c: Container, ms: Manifest[]): string[] {
  const fromConfigMaps = (c.envFrom ?? []).flatMap((f) =>
    Object.keys(ms.find((m) => m.kind === 'ConfigMap' && m.metadata.name === f.configMapRef?.name)?.data ?? {}),
  );
  return [...new Set([...fromConfigMaps, ...(c.env ?? []).map((e) => e.name)])];
}
