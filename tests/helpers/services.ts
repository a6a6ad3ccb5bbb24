import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { ServiceProcess } from './process';

const ROOT = resolve(__dirname, '../..');

/** `tally setup`: topics and schemas, idempotent. */
export function tallySetup(): void {
  execFileSync(process.execPath, [resolve(ROOT, 'packages/cli/dist/bin.js'), 'setup'], { stdio: 'ignore' });
}

// Linux gives every outgoing connection a local port from 32768 up (ip_local_port_range), so a
// server a test starts up there can find its port held by some client's socket and exit with
// EADDRINUSE (CI lost a run to that: ingest on 36188). Test servers stay below it.
const EPHEMERAL_PORTS_START = 32_768;
// Room for `testPort(base) + n` with a small n.
const SPREAD = 500;
const ROOM = 20;

/** A free-enough port per test file: base plus pid % 500, so two jest workers rarely meet. */
export function testPort(base: number): number {
  if (base + SPREAD + ROOM > EPHEMERAL_PORTS_START)
    throw new Error(
      `test port base ${base} reaches the ephemeral range (${EPHEMERAL_PORTS_START}+): take one below ${EPHEMERAL_PORTS_START - SPREAD - ROOM}`,
    );
  return base + (process.pid % SPREAD);
}

/** Starts the compiled ingest API as a real process and waits until /readyz says ready (or only healthy). */
export async function startIngest(
  env: Record<string, string>,
  opts: { waitReady?: boolean } = {},
): Promise<{ proc: ServiceProcess; url: string }> {
  const port = env.PORT!;
  const proc = new ServiceProcess('services/ingest-api/dist/main.js', {
    LOG_LEVEL: 'warn',
    BROWSER_KEYS: 'bk-test',
    SERVER_KEYS: 'sk-test',
    ...env,
  });
  const url = `http://127.0.0.1:${port}`;
  await proc.until(
    async () => {
      const res = await fetch(`${url}/${opts.waitReady === false ? 'healthz' : 'readyz'}`);
      return res.ok ? true : undefined;
    },
    30_000,
    `ingest-api on ${url} (${opts.waitReady === false ? 'healthy' : 'ready'})`,
  );
  return { proc, url };
}
