// tally/laravel (clients/php) for real: its PHPUnit suite, then a Laravel 8 application built from
// Debian's packages that installs the package from a path repository (no Packagist), tracks page
// views into the real pipeline (Kafka, and MySQL through the running event-logger), and survives an
// ingest outage: short page cost, every event spooled, breaker open, `tally:resend` delivering each
// event exactly once. Needs php-cli, composer, phpunit and php-laravel-framework (scripts/install-test-tools.sh).
import { execFile } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { createMysql } from '@tally/clients';
import { RegistryCodec } from '@tally/kafka';
import { env, eventually, uniqueName } from '../helpers/env';
import { kafka } from '../helpers/kafka';
import { endOffsets } from '../helpers/pipeline';
import { startIngest, tallySetup, testPort } from '../helpers/services';
import type { ServiceProcess } from '../helpers/process';

const run = promisify(execFile);
const ROOT = resolve(__dirname, '../..');
const PACKAGE = join(ROOT, 'clients/php');
const TOPIC = 'tally.movie.viewed';
const TIMEOUT_S = 0.3;

const db = createMysql({ url: env.MYSQL_URL, poolMax: 2 });
const procs: ServiceProcess[] = [];
let app: string;

interface Page {
  status: number;
  event_id: string;
  body: string;
  terminate_ms: number;
  stats: {
    sent_events: number;
    skipped_events: number;
    spooled_events: number;
    failed_requests: number;
    breaker: { state: string; skipped_events: number; failures: number };
    spool: { files: number };
  };
}

/** The parent's environment (PATH) plus the child's own variables. */
function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  return { ...process.env, ...extra };
}

function appEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  return childEnv({
    TALLY_SERVER_KEY: 'sk-test',
    TALLY_BROWSER_KEY: 'bk-test',
    TALLY_USER_TOKEN_SECRET: 'test-secret',
    TALLY_CONNECT_TIMEOUT: '0.2',
    TALLY_TIMEOUT: String(TIMEOUT_S),
    ...extra,
  });
}

async function page(uri: string, ip: string, userAgent: string, extra: Record<string, string>): Promise<Page> {
  const { stdout } = await run('php', ['page.php', uri, ip, userAgent], { cwd: app, env: appEnv(extra), timeout: 20_000 });
  return JSON.parse(stdout) as Page;
}

async function artisan(args: string[], extra: Record<string, string>): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await run('php', ['artisan', ...args], { cwd: app, env: appEnv(extra), timeout: 60_000 });
    return { code: 0, out: stdout + stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, out: err.stdout + err.stderr };
  }
}

/** How many times each wanted event id appears on the topic after `from`; waits until all appear, then 2 s more for duplicates. */
async function kafkaCounts(ids: string[], from: Map<string, number>): Promise<Map<string, { n: number; value: Record<string, unknown> }>> {
  const codec = new RegistryCodec(env.SCHEMA_REGISTRY_URL);
  const wanted = new Set(ids);
  const seen = new Map<string, { n: number; value: Record<string, unknown> }>();
  const consumer = kafka.consumer({ groupId: uniqueName('php-reader') });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const { value } = await codec
          .decode<Record<string, unknown>>(message.value)
          .catch(() => ({ value: {} as Record<string, unknown> }));
        const id = value.event_id as string;
        if (wanted.has(id)) seen.set(id, { n: (seen.get(id)?.n ?? 0) + 1, value });
      },
    });
    for (const [key, offset] of from) {
      const [topic, partition] = key.split(':');
      consumer.seek({ topic: topic!, partition: Number(partition), offset: String(offset) });
    }
    await eventually(async () => (seen.size === wanted.size ? true : undefined), 45_000, `${wanted.size} events on ${TOPIC}`);
    await new Promise((r) => setTimeout(r, 2_000));
    return seen;
  } finally {
    await consumer.disconnect();
  }
}

async function viewRows(
  ids: string[],
): Promise<{ event_id: string; jav_id: number; user_id: number | null; ip: string | null; user_agent: string | null }[]> {
  return db('view_events').whereIn('event_id', ids).select('event_id', 'jav_id', 'user_id', 'ip', 'user_agent');
}

beforeAll(async () => {
  tallySetup();
  // The app skeleton, made real in a temporary directory: Composer installs tally/laravel from a
  // path repository (packagist.org disabled), which also writes the installed.json auto-discovery reads.
  app = mkdtempSync(join(tmpdir(), 'tally-laravel-'));
  cpSync(join(PACKAGE, 'tests/laravel-app'), app, { recursive: true });
  const composer = JSON.parse(readFileSync(join(app, 'composer.json'), 'utf8')) as { repositories: { url?: string }[] };
  composer.repositories[0]!.url = PACKAGE;
  writeFileSync(join(app, 'composer.json'), JSON.stringify(composer, null, 2));
  for (const d of ['storage/logs', 'storage/framework/views', 'storage/framework/cache', 'bootstrap/cache'])
    mkdirSync(join(app, d), { recursive: true });
  await run('composer', ['install', '--no-interaction', '--no-progress'], {
    cwd: app,
    env: childEnv({ COMPOSER_ALLOW_SUPERUSER: '1', COMPOSER_DISABLE_NETWORK: '1', COMPOSER_HOME: join(app, '.composer') }),
    timeout: 120_000,
  });
  const published = await artisan(['vendor:publish', '--tag=tally-config'], {});
  expect(published.out).toContain('Publishing complete');
}, 180_000);

afterAll(async () => {
  await Promise.all(procs.map((p) => p.kill()));
  await db.destroy();
  if (app) rmSync(app, { recursive: true, force: true });
});

test("the package's PHPUnit suite passes (Debian phpunit)", async () => {
  const { stdout } = await run('phpunit', ['-c', join(PACKAGE, 'phpunit.xml.dist')], { cwd: PACKAGE, timeout: 120_000 });
  expect(stdout).toMatch(/OK \(\d+ tests, \d+ assertions\)/);
}, 150_000);

test('Composer installed the package and Laravel discovered its provider and the Tally alias; config/tally.php was published', async () => {
  const installed = JSON.parse(readFileSync(join(app, 'vendor/composer/installed.json'), 'utf8')) as {
    packages: { name: string; extra?: unknown }[];
  };
  expect(installed.packages.map((p) => p.name)).toEqual(['tally/laravel']);
  expect(readFileSync(join(app, 'config/tally.php'), 'utf8')).toContain("env('TALLY_USER_TOKEN_SECRET')");
  const list = await artisan(['list'], {});
  expect(list.out).toContain('tally:resend');
  const schedule = await artisan(['schedule:list'], {});
  expect(schedule.out).toMatch(/tally:resend\s*\|\s*\* \* \* \* \*/);
});

test("page views of a user and a guest reach Kafka and view_events with the end user's ip and user agent", async () => {
  const { proc, url } = await startIngest({ PORT: String(testPort(30300)) });
  procs.push(proc);
  const from = await endOffsets([TOPIC]);
  const userId = 900_000_000 + Math.floor(Math.random() * 1e8);
  const ua = `Mozilla/5.0 (X11; Linux x86_64) tally-php-it/${randomUUID().slice(0, 8)}`;
  const spool = {
    TALLY_ENDPOINT: url,
    TALLY_SPOOL_PATH: join(app, 'storage/tally-b/spool'),
    TALLY_BREAKER_PATH: join(app, 'storage/tally-b/breaker.json'),
  };

  const user = await page(`/movies/11?as=${userId}`, '203.0.113.7', ua, spool);
  const guest = await page('/movies/12', '198.51.100.23', ua, spool);
  expect([user.status, guest.status]).toEqual([200, 200]);
  expect([user.stats.sent_events, guest.stats.sent_events]).toEqual([1, 1]);
  expect(user.body).toMatch(new RegExp(`data-user-token="v1\\.${userId}\\.\\d+\\.[A-Za-z0-9_-]{43}"`));
  expect(user.body).toContain('data-key="bk-test"');
  // The rendered token verifies with Node's HMAC (the server's side) and expires in 12 h.
  const [, expires, sig] = /data-user-token="v1\.\d+\.(\d+)\.([^"]+)"/.exec(user.body)!;
  expect(sig).toBe(createHmac('sha256', 'test-secret').update(`v1.${userId}.${expires}`).digest('base64url'));
  expect(Number(expires) - Date.now() / 1000).toBeGreaterThan(12 * 3600 - 60);
  expect(Number(expires) - Date.now() / 1000).toBeLessThanOrEqual(12 * 3600);
  expect(guest.body).not.toContain('data-user-token');

  const ids = [user.event_id, guest.event_id];
  const inKafka = await kafkaCounts(ids, from);
  expect(inKafka.get(user.event_id)?.value).toMatchObject({ jav_id: 11, user_id: userId, ip: '203.0.113.7', user_agent: ua });
  expect(inKafka.get(guest.event_id)?.value).toMatchObject({ jav_id: 12, user_id: null, ip: '198.51.100.23', user_agent: ua });

  const rows = await eventually(
    async () => {
      const r = await viewRows(ids);
      return r.length === 2 ? r : undefined;
    },
    30_000,
    'both views in view_events',
  );
  const byId = new Map(rows.map((r) => [r.event_id, r]));
  expect(byId.get(user.event_id)).toMatchObject({ jav_id: 11, user_id: userId, ip: '203.0.113.7', user_agent: ua });
  expect(byId.get(guest.event_id)).toMatchObject({ jav_id: 12, user_id: null, ip: '198.51.100.23', user_agent: ua });

  // A queued job flushes when it ends (JobProcessed), a console command when the kernel terminates.
  const job = JSON.parse((await artisan(['demo:job', '13', String(userId)], spool)).out) as {
    pending_after_job: number;
    stats: { sent_events: number };
  };
  expect([job.pending_after_job, job.stats.sent_events]).toEqual([0, 1]);
  const cli = JSON.parse((await artisan(['demo:cli', '14', String(userId)], spool)).out) as {
    event_id: string;
    pending_before_exit: number;
  };
  expect(cli.pending_before_exit).toBe(1);
  const [row] = await eventually(
    async () => {
      const r = await viewRows([cli.event_id]);
      return r.length === 1 ? r : undefined;
    },
    30_000,
    "the console command's view in view_events",
  );
  // No end user in a console command: the client forwards no ip, so the ingest API records the
  // connection's (this machine's). Jobs pass the user's ip themselves (README: queued jobs).
  expect(row).toMatchObject({ jav_id: 14, user_id: userId, ip: '127.0.0.1' });
}, 120_000);

test('ingest down: pages pay at most the timeout, every event is spooled, the breaker opens; tally:resend then delivers each exactly once', async () => {
  const port = testPort(30900);
  const first = await startIngest({ PORT: String(port) });
  await first.proc.kill(); // our own instance, stopped: connection refused from here on
  // And a server that accepts and never answers, for the timeout path.
  const sockets: Socket[] = [];
  const silent: Server = createServer((s) => void sockets.push(s));
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  const silentUrl = `http://127.0.0.1:${(silent.address() as { port: number }).port}`;
  const down = `http://127.0.0.1:${port}`;
  const dir = join(app, 'storage/tally-c');
  const store = { TALLY_SPOOL_PATH: join(dir, 'spool'), TALLY_BREAKER_PATH: join(dir, 'breaker.json') };
  const from = await endOffsets([TOPIC]);
  const ua = `Mozilla/5.0 tally-php-outage/${randomUUID().slice(0, 8)}`;

  const pages: Page[] = [];
  try {
    pages.push(await page('/movies/21?as=7', '192.0.2.1', ua, { ...store, TALLY_ENDPOINT: silentUrl }));
    for (let i = 2; i <= 5; i++) pages.push(await page(`/movies/2${i}`, `192.0.2.${i}`, ua, { ...store, TALLY_ENDPOINT: down }));
  } finally {
    for (const s of sockets) s.destroy();
    silent.close();
  }
  const ms = pages.map((p) => p.terminate_ms);
  // The silent server costs the whole budget (the deadline itself, plus writing the spool file);
  // refused connections and an open breaker cost almost nothing.
  expect(ms[0]).toBeGreaterThanOrEqual(TIMEOUT_S * 1000 - 5);
  expect(ms[0]).toBeLessThan(TIMEOUT_S * 1000 + 50);
  for (const m of ms.slice(1)) expect(m).toBeLessThan(TIMEOUT_S * 1000);
  expect(pages.map((p) => p.stats.failed_requests)).toEqual([1, 1, 1, 0, 0]);
  expect(pages.map((p) => p.stats.breaker.state)).toEqual(['closed', 'closed', 'open', 'open', 'open']);
  expect(pages[4]!.stats.breaker.skipped_events).toBe(2);
  expect(pages[4]!.stats.spool.files).toBe(5);
  const log = readFileSync(join(app, 'storage/logs/laravel.log'), 'utf8');
  expect(log.match(/circuit breaker open/g)).toHaveLength(1);

  const back = await startIngest({ PORT: String(port) });
  procs.push(back.proc);
  const resend = await artisan(['tally:resend'], { ...store, TALLY_ENDPOINT: back.url });
  // Five one-event files, merged into one request.
  expect(resend).toEqual({
    code: 0,
    out: expect.stringContaining(
      '5 files sent in 1 requests, 5 events delivered, 0 invalid dropped, 0 files moved to failed/, 0 files left',
    ),
  });
  const again = await artisan(['tally:resend'], { ...store, TALLY_ENDPOINT: back.url });
  expect(again.out).toContain('0 files sent in 0 requests, 0 events delivered');
  expect(readdirSync(join(dir, 'spool')).filter((f) => f.endsWith('.json'))).toEqual([]);

  const ids = pages.map((p) => p.event_id);
  const inKafka = await kafkaCounts(ids, from);
  expect(ids.map((id) => inKafka.get(id)?.n)).toEqual([1, 1, 1, 1, 1]);
  expect(ids.map((id) => inKafka.get(id)?.value.ip)).toEqual(['192.0.2.1', '192.0.2.2', '192.0.2.3', '192.0.2.4', '192.0.2.5']);
  const rows = await eventually(
    async () => {
      const r = await viewRows(ids);
      return r.length === 5 ? r : undefined;
    },
    30_000,
    'the five resent views in view_events',
  );
  expect(rows.map((r) => r.event_id).sort()).toEqual([...ids].sort());

  // The successful resend closed the breaker: the next page sends at once.
  const after = await page('/movies/26', '192.0.2.6', ua, { ...store, TALLY_ENDPOINT: back.url });
  expect([after.stats.sent_events, after.stats.breaker.state]).toEqual([1, 'closed']);
}, 180_000);
