import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readdirSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { alive } from '../helpers/process';
import { testPort } from '../helpers/services';

// Drives the real stack CLI on its own ports and folders, so the developer's running stack is
// never touched. Redis and MariaDB are the quickest real servers to start for these checks.
const CLI = resolve(__dirname, '../../stack/stack');
const BASE_PORT = testPort(16_300);

function stack(args: string[], env: Record<string, string>, path = process.env.PATH) {
  const r = spawnSync('bash', [CLI, ...args], {
    env: { ...process.env, PATH: path, ...env },
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('stack CLI', () => {
  const stackDir = mkdtempSync(join(tmpdir(), 'tally-stack-test-'));
  const env = { STACK_DIR: stackDir, REDIS_PORT: String(BASE_PORT), MYSQL_PORT: String(BASE_PORT + 1) };
  afterAll(() => {
    stack(['down', 'redis', 'mariadb'], env);
  });

  it('starts a server, reports it healthy with port and pid, and stops only what it started', () => {
    const up = stack(['up', 'redis'], env);
    expect(up.err).toContain(`redis healthy on 127.0.0.1:${BASE_PORT}`);
    expect(up.code).toBe(0);
    const again = stack(['up', 'redis'], env);
    expect(again.err).toContain('redis already running');

    const status = stack(['status'], env);
    const line = status.out.split('\n').find((l) => l.startsWith('redis'))!;
    const [, port, pid, health] = line.trim().split(/\s+/);
    expect([port, health]).toEqual([String(BASE_PORT), 'healthy']);
    expect(status.out).toMatch(/kafka\s+\d+\s+-\s+stopped/); // not started in this folder
    expect(status.code).toBe(1); // not everything is up

    expect(stack(['down', 'redis'], env).code).toBe(0);
    expect(alive(Number(pid))).toBe(false);
    expect(stack(['status'], env).out).toMatch(/redis\s+\d+\s+-\s+stopped/);
  });

  it('knows the optional kafka-cluster (kafka1..3) without listing or exporting it while it is not started', () => {
    const down = stack(['down', 'kafka-cluster'], env);
    expect(down.code).toBe(0);
    for (const n of [1, 2, 3]) expect(down.err).toContain(`kafka${n} not running`);
    expect(stack(['status'], env).out).not.toMatch(/^kafka[123]/m);
    expect(stack(['env'], env).out).not.toContain('19092');
    expect(stack(['up', 'kafka4'], env).err).toContain('kafka-cluster');
  });

  it('refuses a port taken by another process and names the server and port', async () => {
    const port = BASE_PORT + 2;
    const blocker: Server = createServer(() => undefined);
    await new Promise<void>((r) => blocker.listen(port, '127.0.0.1', r));
    try {
      const r = stack(['up', 'redis'], { ...env, REDIS_PORT: String(port) });
      expect(r.code).not.toBe(0);
      expect(r.err).toContain(`redis: port ${port} on 127.0.0.1 is already taken by a process this stack did not start`);
    } finally {
      blocker.close();
    }
  });

  it('prints the log tail when a server dies during start-up', () => {
    const broken = mkdtempSync(join(tmpdir(), 'tally-stack-broken-'));
    mkdirSync(join(broken, 'data'), { recursive: true });
    writeFileSync(join(broken, 'data', 'redis'), 'not a directory'); // redis cannot use it as --dir
    const r = stack(['up', 'redis'], { ...env, STACK_DIR: broken, REDIS_PORT: String(BASE_PORT + 3) });
    expect(r.code).not.toBe(0);
    expect(r.err).toContain(`redis exited during start-up. Last lines of ${broken}/logs/redis.log`);
  });

  it('gives up on a server that is not healthy within its timeout, prints its log and stops it', () => {
    // 0 s: given up after the first failed check (a warm MariaDB can be healthy within 1 s).
    const r = stack(['up', 'mariadb'], { ...env, MARIADB_TIMEOUT: '0' });
    expect(r.code).not.toBe(0);
    expect(r.err).toContain('mariadb did not become healthy within 0s');
    expect(r.err).toContain(`Last lines of ${stackDir}/logs/mariadb.log`);
    expect(existsSync(join(stackDir, 'run', 'mariadb.pid'))).toBe(false);
  });

  it('names the missing toolchain (JDK, Maven, Go) instead of failing obscurely', () => {
    // A PATH with every usual command except java, mvn and go.
    const bin = mkdtempSync(join(tmpdir(), 'tally-stack-path-'));
    for (const dir of ['/usr/local/bin', '/usr/bin', '/bin']) {
      if (!existsSync(dir)) continue;
      for (const name of readdirSync(dir)) {
        if (['java', 'javac', 'mvn', 'go'].includes(name) || existsSync(join(bin, name))) continue;
        symlinkSync(join(dir, name), join(bin, name));
      }
    }
    const emptyCache = mkdtempSync(join(tmpdir(), 'tally-stack-cache-'));
    const e = { ...env, CACHE_DIR: emptyCache, JAVA21_HOME: '' };
    const kafka = stack(['install', 'kafka'], e, bin);
    expect(kafka.code).not.toBe(0);
    expect(kafka.err).toContain("kafka needs 'java' on PATH");
    const ferret = stack(['install', 'ferretdb'], e, bin);
    expect(ferret.code).not.toBe(0);
    expect(ferret.err).toContain("ferretdb needs 'go' on PATH");
    const os = stack(['install', 'opensearch'], e, bin);
    expect(os.code).not.toBe(0);
    expect(os.err).toContain('opensearch: needs a JDK 17+ (java) and Maven (mvn)');
  });
});
