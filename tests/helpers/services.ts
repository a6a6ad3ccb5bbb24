import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { eventually } from './env';
import { ServiceProcess } from './process';

const ROOT = resolve(__dirname, '../..');

/** `tally setup`: topics and schemas, idempotent. */
export function tallySetup(): void {
  execFileSync(process.execPath, [resolve(ROOT, 'packages/cli/dist/bin.js'), 'setup'], { stdio: 'ignore' });
}

/** A free-enough port per test file (jest workers run files in parallel). */
export function testPort(base: number): number {
  return base + (process.pid % 500);
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
  await eventually(
    async () => {
      const res = await fetch(`${url}/${opts.waitReady === false ? 'healthz' : 'readyz'}`);
      return res.ok ? true : undefined;
    },
    30_000,
    `ingest-api on ${url} (${opts.waitReady === false ? 'healthy' : 'ready'}); output so far:\n${proc.output}`,
  );
  return { proc, url };
}
