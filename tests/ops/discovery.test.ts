import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'yaml';
import { helmBinary, ofKind, render, type Manifest } from '../helm/render';

// Every replica is a target (issue #17): under compose, Prometheus asks Docker's DNS for the service
// name (one A record per container); on Kubernetes it lists pods and keeps Tally's by annotation.
// There is no Docker engine or cluster here, so this checks what decides the targets: the compose file
// as docker-compose itself resolves it, the manifests as helm renders them, and the scrape configs'
// relabelling applied to the pods a Kubernetes pod discovery would report.
const ROOT = resolve(__dirname, '../..');
const read = (p: string) => readFileSync(resolve(ROOT, p), 'utf8');

interface RelabelRule {
  source_labels?: string[];
  separator?: string;
  regex?: string;
  target_label?: string;
  replacement?: string;
  action?: 'replace' | 'keep' | 'drop' | 'labelmap';
}
interface ScrapeConfig {
  job_name: string;
  honor_labels?: boolean;
  dns_sd_configs?: { names: string[]; type: string; port: number }[];
  kubernetes_sd_configs?: { role: string }[];
  relabel_configs?: RelabelRule[];
}
const scrapeConfigs = (p: string) => (parse(read(p)) as { scrape_configs: ScrapeConfig[] }).scrape_configs;

/** The services Tally builds (not the servers): their compose `command` runs services/<name>/dist/main.js. */
const tallyService = (svc: { command?: string[] | string }) =>
  /services\/([a-z-]+)\/dist\/main\.js/.exec([svc.command ?? []].flat().join(' '))?.[1];

/**
 * Prometheus' relabelling (prometheus/model/relabel) for the actions the configs use: the source
 * values joined by `;`, the regex anchored at both ends, `$1`-style groups in the replacement.
 */
export function relabel(labels: Record<string, string>, rules: RelabelRule[]): Record<string, string> | null {
  const out = { ...labels };
  for (const r of rules) {
    const value = (r.source_labels ?? []).map((l) => out[l] ?? '').join(r.separator ?? ';');
    const match = new RegExp(`^(?:${r.regex ?? '(.*)'})$`).exec(value);
    const action = r.action ?? 'replace';
    if (action === 'keep' && !match) return null;
    if (action === 'drop' && match) return null;
    if (action === 'replace' && match) {
      const v = (r.replacement ?? '$1').replace(/\$\{?(\d+)\}?/g, (_, g: string) => match[Number(g)] ?? '');
      if (v === '') delete out[r.target_label!];
      else out[r.target_label!] = v;
    }
  }
  return Object.fromEntries(Object.entries(out).filter(([k]) => !k.startsWith('__meta_')));
}

/** A label or annotation name as Kubernetes discovery turns it into a meta label. */
const sanitize = (name: string) => name.replace(/[^a-zA-Z0-9_]/g, '_');

/** The targets pod discovery reports for one running pod: one per declared container port (Prometheus' kubernetes/pod.go). */
function podTargets(m: Manifest, pod: string, ip: string): Record<string, string>[] {
  const t = m.spec!.template!;
  const base: Record<string, string> = {
    __meta_kubernetes_namespace: 'tally',
    __meta_kubernetes_pod_name: pod,
    __meta_kubernetes_pod_ip: ip,
    __meta_kubernetes_pod_phase: 'Running',
    __metrics_path__: '/metrics',
    __scheme__: 'http',
  };
  for (const [k, v] of Object.entries(t.metadata.labels)) base[`__meta_kubernetes_pod_label_${sanitize(k)}`] = v;
  for (const [k, v] of Object.entries(t.metadata.annotations ?? {})) base[`__meta_kubernetes_pod_annotation_${sanitize(k)}`] = v;
  return t.spec.containers.flatMap((c) =>
    (c.ports ?? []).map((p) => ({
      ...base,
      __address__: `${ip}:${p.containerPort}`,
      __meta_kubernetes_pod_container_name: c.name,
      __meta_kubernetes_pod_container_port_number: String(p.containerPort),
    })),
  );
}

describe('Prometheus finds every replica', () => {
  it('compose: each Tally service is a DNS-discovered job on the port it serves /metrics on, and nothing pins a consumer to one container', () => {
    // docker-compose resolves anchors, profiles and defaults exactly as `up` would.
    const r = spawnSync('docker-compose', ['-f', 'docker-compose.yml', '--profile', 'monitoring', 'config'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(r.stderr).not.toMatch(/ERROR/);
    expect(r.status).toBe(0);
    const compose = parse(r.stdout) as {
      services: Record<
        string,
        {
          command?: string[];
          environment?: Record<string, string>;
          ports?: unknown[];
          container_name?: string;
          volumes?: unknown[];
          profiles?: string[];
        }
      >;
    };
    const built = Object.entries(compose.services).flatMap(([name, svc]) => {
      const entry = tallyService(svc);
      return entry && !svc.command!.includes('--once') && !svc.command!.includes('--init') ? [[name, entry, svc] as const] : [];
    });
    expect(built.map(([n]) => n).sort()).toEqual([
      'counter',
      'es-sync',
      'event-logger',
      'flusher',
      'history',
      'ingest-api',
      'query-api',
      'retention',
      'snapshot-builder',
    ]);

    const jobs = scrapeConfigs('ops/prometheus/prometheus-compose.yml');
    for (const [name, , svc] of built) {
      const job = jobs.find((j) => j.job_name === `tally-${name}`);
      expect({ name, discovery: job?.dns_sd_configs?.map((d) => ({ names: d.names, type: d.type })) }).toEqual({
        name,
        discovery: [{ names: [name], type: 'A' }],
      });
      const env = svc.environment ?? {};
      const api = name === 'ingest-api' || name === 'query-api';
      // The port inside the network: an API's HTTP port, a worker's management port, on every interface.
      expect({ name, port: job!.dns_sd_configs![0]!.port }).toEqual({ name, port: Number(api ? env.PORT : env.MANAGEMENT_PORT) });
      expect({ name, host: api ? env.HOST : env.MANAGEMENT_HOST }).toEqual({ name, host: '0.0.0.0' });
      // `--scale` starts more containers only without a fixed name and, for consumers, without a host port.
      expect({ name, container_name: svc.container_name }).toEqual({ name, container_name: undefined });
      if (!api) expect({ name, ports: svc.ports }).toEqual({ name, ports: undefined });
    }
    // Nothing else, and nothing at a fixed address that a second replica would not have.
    expect(jobs.map((j) => j.job_name).sort()).toEqual(built.map(([n]) => `tally-${n}`).sort());
    expect(jobs.filter((j) => !j.dns_sd_configs)).toEqual([]);

    const prom = compose.services.prometheus!;
    expect(prom.profiles).toEqual(['monitoring']);
    expect(JSON.stringify(prom.volumes)).toContain('prometheus-compose.yml');
  });

  it('Kubernetes: pod discovery plus the relabelling keeps one target per Tally pod, at its metrics port, as job tally-<service>', () => {
    helmBinary();
    const [config] = scrapeConfigs('ops/prometheus/prometheus-kubernetes.yml');
    expect(config!.kubernetes_sd_configs).toEqual([expect.objectContaining({ role: 'pod' })]);
    const deployments = ofKind(render(), 'Deployment');
    expect(deployments).toHaveLength(9);
    for (const d of deployments) {
      // The chart names each container after its service.
      const service = d.spec!.template!.spec.containers[0]!.name;
      const port = d.spec!.template!.spec.containers[0]!.ports![0]!.containerPort;
      // Two replicas of the Deployment: two pods, two targets.
      const targets = ['10.1.0.7', '10.1.0.8'].flatMap((ip, i) =>
        podTargets(d, `${d.metadata.name}-${i}`, ip).map((t) => relabel(t, config!.relabel_configs!)),
      );
      expect({ service, targets }).toEqual({
        service,
        targets: ['10.1.0.7', '10.1.0.8'].map((ip, i) => ({
          __address__: `${ip}:${port}`,
          __metrics_path__: '/metrics',
          __scheme__: 'http',
          job: `tally-${service}`,
          service,
          namespace: 'tally',
          pod: `${d.metadata.name}-${i}`,
        })),
      });
    }
    // A pod of something else in the namespace, or one not running, is no target.
    const other = podTargets(deployments[0]!, 'other-0', '10.1.0.9').map((t) => ({
      ...t,
      __meta_kubernetes_pod_label_app_kubernetes_io_part_of: 'shop',
    }));
    expect(other.map((t) => relabel(t, config!.relabel_configs!))).toEqual([null]);
    const pending = podTargets(deployments[0]!, 'new-0', '10.1.0.10').map((t) => ({ ...t, __meta_kubernetes_pod_phase: 'Pending' }));
    expect(pending.map((t) => relabel(t, config!.relabel_configs!))).toEqual([null]);
  });

  it('the relabelling itself follows Prometheus: anchored regex, joined sources, $n groups', () => {
    const rules: RelabelRule[] = [
      { source_labels: ['a'], regex: 'x', action: 'keep' },
      { source_labels: ['__address__', 'p'], regex: '([^:]+)(?::\\d+)?;(\\d+)', replacement: '$1:$2', target_label: '__address__' },
    ];
    expect(relabel({ a: 'x', __address__: '10.0.0.1:80', p: '9102' }, rules)).toEqual({ a: 'x', __address__: '10.0.0.1:9102', p: '9102' });
    expect(relabel({ a: 'xx', __address__: '10.0.0.1', p: '1' }, rules)).toBeNull();
    expect(relabel({ a: 'x', __address__: '10.0.0.1', p: 'http' }, rules)).toEqual({ a: 'x', __address__: '10.0.0.1', p: 'http' });
  });
});
