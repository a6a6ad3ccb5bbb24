import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DependencyError, ERROR_CODES, TallyError, type ErrorCode } from './index';

const root = join(__dirname, '../../..');

/** Production sources of the HTTP services and the runtime (tests and generated output left out). */
function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return sources(p);
    return p.endsWith('.ts') && !p.endsWith('.test.ts') ? [p] : [];
  });
}

describe('the error catalog', () => {
  it('has upper-snake codes, each with a message and, where it has one, an HTTP error status', () => {
    for (const [code, info] of Object.entries(ERROR_CODES)) {
      expect(code).toMatch(/^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/);
      expect(info.message.length).toBeGreaterThan(0);
      if ('httpStatus' in info) expect(info.httpStatus >= 400 && info.httpStatus < 600).toBe(true);
    }
  });

  it('gives TallyError its status and retriability unless the caller says otherwise', () => {
    expect(new TallyError('TAG_INDEX_MISSING', 'x')).toMatchObject({ httpStatus: 503, retriable: true });
    expect(new TallyError('AUTH_UNKNOWN_KEY', 'x')).toMatchObject({ httpStatus: 401, retriable: false });
    expect(new TallyError('SCHEMA_REJECTED', 'x')).toMatchObject({ httpStatus: 500, retriable: false });
    expect(new TallyError('COUNTER_APPLY_CONTENDED', 'x')).toMatchObject({ httpStatus: 503, retriable: true });
    expect(new TallyError('AUTH_UNKNOWN_KEY', 'x', { httpStatus: 403 }).httpStatus).toBe(403);
    const dep = new DependencyError('kafka', 'down');
    expect(dep.code).toBe('KAFKA_UNAVAILABLE');
    expect(ERROR_CODES[dep.code]).toBeDefined();
  });

  it('lists every code the HTTP services answer with outside TallyError (literal `code:` and returned codes)', () => {
    const files = ['services/ingest-api/src', 'services/query-api/src', 'packages/runtime/src'].flatMap((d) => sources(join(root, d)));
    const found = new Set<string>();
    for (const f of files) {
      const text = readFileSync(f, 'utf8');
      for (const m of text.matchAll(/(?:code: |return )'([A-Z][A-Z0-9_]+)'/g)) found.add(m[1]!);
    }
    // errorCode()'s fallback for errors that are not Tally's; never sent in an HTTP body.
    found.delete('UNEXPECTED');
    expect(found.size).toBeGreaterThan(5);
    expect([...found].filter((c) => !(c in ERROR_CODES))).toEqual([]);
  });

  it("matches the SDK's copy of the ingest API's codes (the SDK is standalone and cannot import the catalog)", () => {
    const sdk = readFileSync(join(root, 'packages/sdk/src/errors.ts'), 'utf8');
    const list = /SERVER_ERROR_CODES = \[([^\]]*)\]/.exec(sdk)?.[1] ?? '';
    const sdkCodes = [...list.matchAll(/'([A-Z0-9_]+)'/g)].map((m) => m[1]!);
    // What ingest-api answers with: the catalog codes its sources name, the shared router's 404/405
    // (packages/runtime) and the DependencyErrors of producing (Kafka, the schema registry).
    const ingest = new Set(['ROUTE_NOT_FOUND', 'METHOD_NOT_ALLOWED', 'KAFKA_UNAVAILABLE', 'REGISTRY_UNAVAILABLE']);
    for (const f of sources(join(root, 'services/ingest-api/src')))
      for (const m of readFileSync(f, 'utf8').matchAll(/'([A-Z][A-Z0-9_]+)'/g)) if (m[1]! in ERROR_CODES) ingest.add(m[1]!);
    expect([...sdkCodes].sort()).toEqual([...ingest].sort());
    for (const c of sdkCodes) expect(ERROR_CODES[c as ErrorCode]).toHaveProperty('httpStatus');
  });

  it('types the codes', () => {
    const code: ErrorCode = 'RATE_LIMITED';
    expect(ERROR_CODES[code].httpStatus).toBe(429);
  });
});
