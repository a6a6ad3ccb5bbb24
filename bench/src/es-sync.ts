/**
 * es-sync benchmark against the real stack: documents/s of an incremental es-sync run (MySQL keyset
 * pages → _bulk partial updates of views/downloads/likes, watermark per page) beside a raw _bulk of
 * the same partial updates sent straight from memory in the same run (the limit: target ≥ 50 %).
 * Also: --reindex documents/s and the per-run cost of rewriting the actors and tags indices.
 * Isolated: own MySQL database, own index prefix (deleted at the end).
 * Env: BENCH_MOVIES (default 100000), BENCH_BULK (documents per _bulk, default 1000).
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Client } from '@elastic/elasticsearch';
import { createElasticsearchClient } from '@tally/clients';
import { createTempDatabase, migrateLatest, seedDemo, type TempDatabase } from '@tally/db';

const ROOT = resolve(__dirname, '../..');

const env = process.env;
const MOVIES = Number(env.BENCH_MOVIES ?? 100_000);
const BULK = Number(env.BENCH_BULK ?? 1_000);
const MYSQL_URL = env.MYSQL_URL ?? 'mysql://tally:tally@127.0.0.1:3306/tally';
const ES_URL = env.ES_URL ?? 'http://127.0.0.1:9200';
const PREFIX = `bench_essync_${randomUUID().slice(0, 8)}_`;

interface RunStats {
  /** The job's own duration (from its `job run succeeded` line): lock, reads, bulks, catalog rewrite. */
  jobMs: number;
  /** Spawn to exit: adds node start-up, connections and shutdown. */
  wallMs: number;
  items: number;
}

/** `es-sync --once [flags]` as the operator runs it; its own timing from the log line. */
function runEsSync(temp: TempDatabase, flags: string[]): Promise<RunStats> {
  const t0 = Date.now();
  const p = spawn(process.execPath, [resolve(ROOT, 'services/es-sync/dist/main.js'), '--once', ...flags], {
    env: { ...env, MYSQL_URL: temp.url, ES_URL, ES_INDEX_PREFIX: PREFIX, SETTLE_LAG: '0ms', BULK_SIZE: String(BULK), LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  p.stdout!.on('data', (d) => (out += d));
  return new Promise((resolveRun, reject) => {
    p.once('exit', (code) => {
      const line = out.split('\n').find((l) => l.includes('"job run succeeded"'));
      if (code !== 0 || !line) return reject(new Error(`es-sync ${flags.join(' ')} exited ${code}:\n${out.slice(-3000)}`));
      const { ms, items } = JSON.parse(line) as { ms: number; items: number };
      resolveRun({ jobMs: ms, wallMs: Date.now() - t0, items });
    });
  });
}

/** The same partial updates es-sync sends, from memory, one _bulk at a time: the limit. */
async function rawBulk(
  es: Client,
  alias: string,
  rows: { id: number; views: number; downloads: number; likes: number }[],
  add: number,
): Promise<number> {
  const stamp = new Date();
  const t0 = Date.now();
  for (let s = 0; s < rows.length; s += BULK) {
    const operations: unknown[] = [];
    for (const r of rows.slice(s, s + BULK)) {
      operations.push(
        { update: { _id: String(r.id), retry_on_conflict: 3 } },
        { doc: { views: r.views + add, downloads: r.downloads + add, likes: r.likes + add, counts_updated_at: stamp } },
      );
    }
    const res = await es.bulk({ index: alias, operations, filter_path: ['errors'] });
    if (res.errors) throw new Error('raw _bulk had item errors');
  }
  return rows.length / ((Date.now() - t0) / 1000);
}

async function main(): Promise<void> {
  const es = createElasticsearchClient({
    url: ES_URL,
    flavor: (env.ES_FLAVOR as 'opensearch' | 'elasticsearch' | undefined) ?? 'opensearch',
    requestTimeoutMs: 120_000,
  });
  const temp = await createTempDatabase(MYSQL_URL, 'tally_bench');
  try {
    await migrateLatest(temp.db);
    const tags = Math.max(1, Math.round(MOVIES / 50));
    const actors = Math.max(1, Math.round(MOVIES / 5));
    process.stdout.write(`seeding ${MOVIES} movies, ${actors} actors, ${tags} tags…\n`);
    await seedDemo(temp.db, { movies: MOVIES, actors, tags, users: 10, seed: 1 });

    const reindex = await runEsSync(temp, ['--reindex']);
    process.stdout.write(`--reindex: ${reindex.items} documents in ${(reindex.jobMs / 1000).toFixed(1)} s\n`);
    const idle = await runEsSync(temp, []); // nothing changed: the per-run catalog rewrite alone
    process.stdout.write(`idle run (actors + tags rewrite only): ${idle.jobMs} ms\n`);

    const rows = (await temp.db('jav').select('id', 'views', 'downloads', 'likes').orderBy('id')) as {
      id: number;
      views: number;
      downloads: number;
      likes: number;
    }[];
    const alias = `${PREFIX}jav`;
    // Every update changes the document (a partial update equal to the source is a cheap no-op).
    const raw1 = await rawBulk(es, alias, rows, 1_000);
    process.stdout.write(`raw _bulk: ${Math.round(raw1)} docs/s\n`);
    await temp.db('jav').update({
      views: temp.db.raw('views + 1'),
      downloads: temp.db.raw('downloads + 1'),
      likes: temp.db.raw('likes + 1'),
      counts_updated_at: temp.db.raw('NOW(3)'),
    });
    const sync = await runEsSync(temp, []);
    if (sync.items !== MOVIES) throw new Error(`es-sync synced ${sync.items} of ${MOVIES}`);
    const syncRate = sync.items / (sync.jobMs / 1000);
    const countsOnlyRate = sync.items / ((sync.jobMs - idle.jobMs) / 1000);
    process.stdout.write(`es-sync incremental: ${Math.round(syncRate)} docs/s\n`);
    const raw2 = await rawBulk(es, alias, rows, 2_000);
    const raw = (raw1 + raw2) / 2;

    const table: [string, string, string][] = [
      [`raw _bulk partial updates (${BULK}/request), mean of 2`, `${Math.round(raw)} docs/s`, '1.00 (limit)'],
      ['es-sync incremental, whole job', `${Math.round(syncRate)} docs/s`, `${(syncRate / raw).toFixed(2)}  target ≥ 0.50`],
      ['es-sync incremental, counts part', `${Math.round(countsOnlyRate)} docs/s`, (countsOnlyRate / raw).toFixed(2)],
      [
        'es-sync incremental, process wall time',
        `${(sync.wallMs / 1000).toFixed(1)} s`,
        `${Math.round(sync.items / (sync.wallMs / 1000))} docs/s`,
      ],
      ['es-sync --reindex (3 indices)', `${Math.round(reindex.items / (reindex.jobMs / 1000))} docs/s`, `${reindex.items} docs`],
      ['idle run (actors + tags rewrite)', `${idle.jobMs} ms`, `${actors + tags} docs`],
    ];
    process.stdout.write(`\n${'measure'.padEnd(48)} ${'value'.padStart(16)}  ratio\n`);
    for (const [a, b, c] of table) process.stdout.write(`${a.padEnd(48)} ${b.padStart(16)}  ${c}\n`);
    mkdirSync(resolve(__dirname, '../results'), { recursive: true });
    const file = resolve(__dirname, `../results/es-sync-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    writeFileSync(
      file,
      JSON.stringify(
        {
          at: new Date().toISOString(),
          movies: MOVIES,
          actors,
          tags,
          bulk: BULK,
          raw: { first: raw1, second: raw2, mean: raw },
          sync,
          syncRate,
          countsOnlyRate,
          ratio: syncRate / raw,
          reindex,
          idle,
        },
        null,
        2,
      ),
    );
    process.stdout.write(`\nwritten ${file}\n`);
  } finally {
    const mine = Object.keys(await es.indices.get({ index: `${PREFIX}*`, allow_no_indices: true }));
    for (const index of mine) if (index.startsWith(PREFIX)) await es.indices.delete({ index });
    await es.close();
    await temp.drop();
  }
}

void main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
