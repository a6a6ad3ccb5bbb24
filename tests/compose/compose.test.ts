import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

// docker-compose.yml cannot run here (no Docker engine), but it must stay valid and agree with the
// local stack: the same host ports, so one service configuration works against either.
const ROOT = resolve(__dirname, '../..');

describe('docker-compose.yml', () => {
  it('is valid for the Compose client', () => {
    const out = execFileSync('docker-compose', ['-f', resolve(ROOT, 'docker-compose.yml'), 'config', '--services'], { encoding: 'utf8' });
    expect(out.trim().split('\n').sort()).toEqual(
      ['counter', 'elasticsearch', 'es-sync', 'es-sync-init', 'event-logger', 'flusher', 'history', 'ingest-api', 'kafka', 'mongo', 'mysql', 'query-api', 'redis', 'registry', 'registry-init', 'retention', 'snapshot-builder', 'tally-setup'].sort(),
    );
  });

  it('never rebuilds the search indices on a start: only es-sync --init, which leaves existing indices alone', () => {
    const text = readFileSync(resolve(ROOT, 'docker-compose.yml'), 'utf8');
    expect(text).not.toMatch(/"--reindex"/);
    expect(text).toContain('command: ["node", "services/es-sync/dist/main.js", "--init"]');
  });

  it('publishes each server on the local stack default port, on loopback only', () => {
    const text = readFileSync(resolve(ROOT, 'docker-compose.yml'), 'utf8');
    for (const port of [9092, 8081, 3306, 6379, 27017, 9200, 8080, 8090]) expect(text).toContain(`"127.0.0.1:${port}:${port}"`);
    expect(text).not.toMatch(/ports: \["(?!127\.0\.0\.1:)/); // never bound on every interface
  });
});
