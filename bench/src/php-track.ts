/**
 * tally/laravel (clients/php) page-side cost: Tally::track() in microseconds per call, and the time
 * the flush at the end of a request adds (Laravel's terminate(), after the response under PHP-FPM)
 * with Tally up (an ingest API of its own on the real Kafka), down (connection refused; and a server
 * that never answers, bounded by the 0.5 s total timeout) and with the breaker open. The PHP side is
 * bench/php/track-bench.php. Prints a table and writes bench/results/php-track-<time>.json.
 *
 * Run: `npx tsc -b bench && node bench/dist/php-track.js` with the stack up; needs php-cli. The
 * "up" rows send 2,200 movie.viewed events into the stack (view_events, counters of movies 1–2000).
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');
const PORT = 18_093;
const REFUSED_PORT = 18_094;
const SERVER_KEY = 'bench-server-key';

interface FlushRow {
  scenario: string;
  pages: number;
  events_per_page: number;
  mean_ms: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
  sent: number;
  spooled: number;
  skipped: number;
}

async function main(): Promise<void> {
  const api = spawn(process.execPath, [resolve(ROOT, 'services/ingest-api/dist/main.js')], {
    env: {
      ...process.env,
      PORT: String(PORT),
      LOG_LEVEL: 'warn',
      BROWSER_KEYS: 'bench-key',
      SERVER_KEYS: SERVER_KEY,
      RATE_LIMIT_MAX: '100000000',
    },
    stdio: 'inherit',
  });
  const sockets: Socket[] = [];
  const silent = createServer((s) => void sockets.push(s));
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  const dir = mkdtempSync(join(tmpdir(), 'tally-php-bench-'));
  try {
    for (let i = 0; i < 300; i++) {
      if ((await fetch(`http://127.0.0.1:${PORT}/readyz`).catch(() => undefined))?.ok) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const out = execFileSync(
      'php',
      [
        resolve(ROOT, 'bench/php/track-bench.php'),
        `http://127.0.0.1:${PORT}`,
        SERVER_KEY,
        `http://127.0.0.1:${REFUSED_PORT}`,
        `http://127.0.0.1:${(silent.address() as { port: number }).port}`,
        dir,
      ],
      { encoding: 'utf8', timeout: 600_000 },
    );
    report(JSON.parse(out) as { track_us_per_call: number; track_calls: number; flush: FlushRow[] });
  } finally {
    for (const s of sockets) s.destroy();
    silent.close();
    api.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

function report(r: { track_us_per_call: number; track_calls: number; flush: FlushRow[] }): void {
  const w = (s: string, n: number) => s.padStart(n);
  process.stdout.write(
    `\nTally::track() (buffer only, ip/UA from the request): ${r.track_us_per_call.toFixed(2)} µs per call over ${r.track_calls} calls\n\n`,
  );
  process.stdout.write(
    `${'flush at the end of a request'.padEnd(44)} ${w('events', 6)} ${w('mean ms', 9)} ${w('p50 ms', 8)} ${w('p99 ms', 8)} ${w('max ms', 8)}  outcome\n`,
  );
  for (const f of r.flush) {
    const outcome = f.sent > 0 ? `${f.sent} sent` : `${f.spooled} spooled${f.skipped > 0 ? `, ${f.skipped} skipped by the breaker` : ''}`;
    process.stdout.write(
      `${`${f.scenario} (${f.pages} pages)`.padEnd(44)} ${w(String(f.events_per_page), 6)} ${w(f.mean_ms.toFixed(2), 9)} ${w(f.p50_ms.toFixed(2), 8)} ${w(f.p99_ms.toFixed(2), 8)} ${w(f.max_ms.toFixed(2), 8)}  ${outcome}\n`,
    );
  }
  mkdirSync(resolve(__dirname, '../results'), { recursive: true });
  const file = resolve(__dirname, `../results/php-track-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(
    file,
    JSON.stringify(
      { at: new Date().toISOString(), php: execFileSync('php', ['-r', 'echo PHP_VERSION;'], { encoding: 'utf8' }), ...r },
      null,
      2,
    ),
  );
  process.stdout.write(`\nwritten ${file}\n`);
}

main().catch((err) => {
  process.stderr.write(`bench: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
