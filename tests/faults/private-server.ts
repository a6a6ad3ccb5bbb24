import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { testPort } from '../helpers/services';

const run = promisify(execFile);
const ROOT = resolve(__dirname, '../..');

export type PrivateKind = 'kafka' | 'kafka-cluster' | 'mariadb' | 'registry';

// Port bases no other test directory uses (testPort adds pid % 500). Each kind needs a main port and
// sometimes a second one (Kafka's controller, Apicurio's management interface).
const PORTS: Record<PrivateKind, Record<string, number>> = {
  kafka: { KAFKA_PORT: 12_000, KAFKA_CONTROLLER_PORT: 12_500 },
  // Three nodes each: node i on base + i - 1 (stack/servers/kafka-cluster.sh).
  'kafka-cluster': { KAFKA_CLUSTER_PORT: 13_000, KAFKA_CLUSTER_CONTROLLER_PORT: 13_600 },
  mariadb: { MYSQL_PORT: 14_200 },
  registry: { REGISTRY_PORT: 14_700, REGISTRY_MANAGEMENT_PORT: 15_200 },
};

// A private registry runs in memory: the stack's default (SQL storage) would share the shared
// MariaDB's `apicurio` database with the shared registry. Scenario 14 restarts it empty on purpose —
// the repair path for a registry without storage; the stack's persistent registry is restarted in
// tests/stack/registry-storage.test.ts.
const SETTINGS: Partial<Record<PrivateKind, Record<string, string>>> = {
  registry: { REGISTRY_STORAGE: 'mem' },
};

/**
 * One server of the local stack started privately for a fault scenario, with the stack script
 * itself (`STACK_DIR=<temp> stack/stack up <kind>`): same binaries, same settings, own ports and
 * data directory. A scenario may stop, pause or restart it without touching the shared stack
 * other suites use (the stack script only ever signals pids from its own STACK_DIR).
 */
export class PrivateServer {
  readonly dir: string;
  readonly ports: Record<string, number>;

  constructor(readonly kind: PrivateKind) {
    this.dir = mkdtempSync(join(tmpdir(), `tally-faults-${kind}-`));
    this.ports = Object.fromEntries(Object.entries(PORTS[kind]).map(([k, base]) => [k, testPort(base)]));
  }

  /** The address clients use. */
  get url(): string {
    switch (this.kind) {
      case 'kafka':
        return `127.0.0.1:${this.ports.KAFKA_PORT}`;
      case 'kafka-cluster':
        return [1, 2, 3].map((n) => `127.0.0.1:${this.nodePort(n)}`).join(',');
      case 'mariadb':
        return `mysql://tally:tally@127.0.0.1:${this.ports.MYSQL_PORT}/tally`;
      case 'registry':
        return `http://127.0.0.1:${this.ports.REGISTRY_PORT}/apis/ccompat/v7`;
    }
  }

  /** Client port of node `n` (1..3) of a kafka-cluster. */
  nodePort(n: number): number {
    return this.ports.KAFKA_CLUSTER_PORT! + n - 1;
  }

  private async stack(cmd: 'up' | 'down', target: string = this.kind): Promise<void> {
    try {
      await run('bash', [join(ROOT, 'stack/stack'), cmd, target], {
        env: {
          ...process.env,
          STACK_DIR: this.dir,
          ...SETTINGS[this.kind],
          ...Object.fromEntries(Object.entries(this.ports).map(([k, v]) => [k, String(v)])),
        },
        timeout: 240_000,
      });
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      // The stack prints the log's tail, which for a JVM is mostly its shutdown; the cause is earlier.
      let causes = '';
      try {
        const logs = target === 'kafka-cluster' ? ['kafka1', 'kafka2', 'kafka3'] : [target];
        causes = logs
          .map((l) => readFileSync(join(this.dir, 'logs', `${l}.log`), 'utf8'))
          .join('\n')
          .split('\n')
          .filter((l) => /ERROR|Exception|Address already in use/.test(l))
          .slice(0, 10)
          .join('\n');
      } catch {
        // no log yet
      }
      throw new Error(
        `stack ${cmd} ${target} (STACK_DIR=${this.dir}) failed: ${e.stderr ?? e.message}\nfirst errors in its log:\n${causes}`,
      );
    }
  }

  /**
   * Starts it and waits until it is healthy (the stack script's own health check). One more try on
   * failure: its ports lie in the kernel's ephemeral range, where an outgoing connection of any
   * process can hold one for a while.
   */
  async up(): Promise<void> {
    try {
      await this.stack('up');
    } catch (err) {
      console.warn(`${this.kind}: first start failed, trying once more: ${String(err).slice(0, 2_000)}`);
      await this.stack('up');
    }
    if (this.kind === 'kafka-cluster') await this.allNodesKnown();
  }

  /**
   * Each node healthy is not yet each node in every node's metadata: a topic created with the
   * default replication factor (3) in that window fails with "only 2 broker(s) are registered".
   */
  private async allNodesKnown(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (const n of [1, 2, 3]) {
      const admin = new Kafka({
        clientId: 'tally-faults-cluster-check',
        brokers: [`127.0.0.1:${this.nodePort(n)}`],
        logLevel: logLevel.NOTHING,
      }).admin();
      try {
        await admin.connect();
        while ((await admin.describeCluster()).brokers.length < 3) {
          if (Date.now() > deadline) throw new Error(`kafka-cluster: node ${n} does not see three brokers after ${timeoutMs} ms`);
          await new Promise((r) => setTimeout(r, 250));
        }
      } finally {
        await admin.disconnect();
      }
    }
  }

  /** Starts node `n` of a kafka-cluster again (data kept) and waits until it is healthy. */
  async nodeUp(n: number): Promise<void> {
    await this.stack('up', `kafka${n}`);
  }

  /** Pid (process group leader) of node `n` of a kafka-cluster. */
  nodePid(n: number): number {
    return Number(readFileSync(join(this.dir, 'run', `kafka${n}.pid`), 'utf8').trim());
  }

  /** SIGTERM and wait (SIGKILL after the stack's grace period); the data directory stays. */
  async down(): Promise<void> {
    await this.stack('down');
  }

  /** Stop, wipe the data directory, start: a server that comes back empty (as the in-memory registry does on any restart). */
  async restartEmpty(): Promise<void> {
    await this.down();
    rmSync(join(this.dir, 'data'), { recursive: true, force: true });
    await this.up();
  }

  /** The server's pid (its process group leader), as the stack script recorded it. */
  pid(): number {
    return Number(readFileSync(join(this.dir, 'run', `${this.kind}.pid`), 'utf8').trim());
  }

  /** SIGSTOP the whole process group: connections stay open and every request hangs, as on a frozen host. */
  pause(): void {
    process.kill(-this.pid(), 'SIGSTOP');
  }

  resume(): void {
    process.kill(-this.pid(), 'SIGCONT');
  }

  async destroy(): Promise<void> {
    try {
      this.resume();
    } catch {
      // not running
    }
    await this.down().catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
