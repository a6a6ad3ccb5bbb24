import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'yaml';

// docker-compose.yml cannot run here (no Docker engine), but it must stay valid and agree with the
// local stack: the same host ports, so one service configuration works against either.
const ROOT = resolve(__dirname, '../..');

interface ComposeService {
  image?: string;
  command?: string[] | string;
  environment?: Record<string, string | number>;
  depends_on?: Record<string, { condition: string }>;
}

/** The file as the Compose client resolves it (anchors merged, `${VAR:-default}` filled in). */
function resolvedCompose(): { services: Record<string, ComposeService> } {
  return parse(execFileSync('docker-compose', ['-f', resolve(ROOT, 'docker-compose.yml'), 'config'], { encoding: 'utf8' })) as {
    services: Record<string, ComposeService>;
  };
}

describe('docker-compose.yml', () => {
  it('is valid for the Compose client', () => {
    const out = execFileSync('docker-compose', ['-f', resolve(ROOT, 'docker-compose.yml'), 'config', '--services'], { encoding: 'utf8' });
    expect(out.trim().split('\n').sort()).toEqual(
      [
        'counter',
        'elasticsearch',
        'es-sync',
        'es-sync-init',
        'event-logger',
        'flusher',
        'history',
        'ingest-api',
        'kafka',
        'mongo',
        'mysql',
        'prometheus',
        'query-api',
        'redis',
        'registry',
        'registry-db',
        'registry-init',
        'retention',
        'snapshot-builder',
        'tally-setup',
      ].sort(),
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

  // Ids must outlive the registry's container: the local stack keeps them in MariaDB
  // (tests/stack/registry-storage.test.ts restarts it), compose in its MySQL the same way.
  it('keeps the registry in its own MySQL database (SQL storage), created before the registry starts', () => {
    const { services } = resolvedCompose();
    const registry = services.registry!;
    const env = registry.environment!;
    expect({ kind: env.APICURIO_STORAGE_KIND, sqlKind: env.APICURIO_STORAGE_SQL_KIND, url: env.APICURIO_DATASOURCE_URL }).toEqual({
      kind: 'sql',
      sqlKind: 'mysql',
      url: 'jdbc:mysql://mysql:3306/apicurio',
    });
    expect(registry.depends_on).toEqual({ 'registry-db': { condition: 'service_completed_successfully' } });

    // The one-shot creating it: after MySQL is healthy, idempotent (an existing volume gets it too),
    // the database, user and password the registry connects with.
    const init = services['registry-db']!;
    expect(init.depends_on).toEqual({ mysql: { condition: 'service_healthy' } });
    const sql = [init.command ?? []].flat().join(' ');
    expect(sql).toContain('CREATE DATABASE IF NOT EXISTS apicurio ');
    expect(sql).toContain(`CREATE USER IF NOT EXISTS '${env.APICURIO_DATASOURCE_USERNAME}'@'%' IDENTIFIED BY '$$REGISTRY_DB_PASSWORD'`);
    expect(sql).toContain(`GRANT ALL PRIVILEGES ON apicurio.* TO '${env.APICURIO_DATASOURCE_USERNAME}'@'%'`);
    expect(init.environment!.REGISTRY_DB_PASSWORD).toBe(env.APICURIO_DATASOURCE_PASSWORD);
    expect(init.environment!.MYSQL_PWD).toBe(services.mysql!.environment!.MYSQL_ROOT_PASSWORD);
    expect(init.image).toBe(services.mysql!.image);

    // The names are the ones the local stack runs Apicurio with (stack/servers/registry.sh exports
    // them), so the stack's registry tests exercise exactly these settings.
    const stackScript = readFileSync(resolve(ROOT, 'stack/servers/registry.sh'), 'utf8');
    for (const name of Object.keys(env).filter((k) => k.startsWith('APICURIO_')))
      expect({ name, inStack: stackScript.includes(`${name}=`) }).toEqual({ name, inStack: true });
  });
});
