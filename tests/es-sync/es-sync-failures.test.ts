import { bumpCounts, createWorld, destroyWorld, esCounts, lastJobRun, mysqlCounts, runSync, watermark, type SyncWorld } from './support';

// Bulk items that OpenSearch really rejects, and what the watermark does about them. Own world, so
// the broken documents here cannot disturb the other file's scenarios.
jest.setTimeout(180_000);

let w: SyncWorld;

beforeAll(async () => {
  w = await createWorld(200);
  const r = await runSync(w, ['--reindex']);
  if (r.code !== 0) throw new Error(`--reindex failed:\n${r.output}`);
});
afterAll(async () => {
  await destroyWorld(w);
});

async function javIndex(): Promise<string> {
  return Object.keys(await w.es.indices.getAlias({ name: w.alias('jav') }))[0]!;
}

async function keyOf(id: number): Promise<{ at: Date; id: number }> {
  const row = await w.tmp.db('jav').where({ id }).first();
  return { at: row.counts_updated_at as Date, id };
}

describe('es-sync: failed bulk items', () => {
  it('one document rejected by the mapping: the others are synced, the watermark stops before it, the next run converges', async () => {
    // Movie 31 gets a field outside the strict mapping, written while the mapping briefly allowed
    // unknown fields (as a stale document from an older writer would be). Every update of it is now
    // rejected with strict_dynamic_mapping_exception, while its neighbours update fine.
    const index = await javIndex();
    const source = (await w.es.get<Record<string, unknown>>({ index, id: '31' }))._source!;
    await w.es.indices.putMapping({ index, dynamic: false });
    await w.es.index({ index, id: '31', document: { ...source, legacy_rank: 7 }, refresh: true });
    await w.es.indices.putMapping({ index, dynamic: 'strict' });

    await bumpCounts(w, [30, 31, 32], 77); // one NOW(3): key order is 30, 31, 32
    const before = await watermark(w);
    const r = await runSync(w);
    expect(r.code).toBe(1);
    const run = await lastJobRun(w);
    expect(run.status).toBe('failed');
    expect(run.error).toMatch(/1 document\(s\) failed: 31 \(strict_dynamic_mapping_exception/);

    const [es, db] = [await esCounts(w), await mysqlCounts(w)];
    expect(es.get(30)).toEqual(db.get(30));
    expect(es.get(32)).toEqual(db.get(32)); // sent even though the watermark is blocked
    expect(es.get(31)).not.toEqual(db.get(31));
    // The watermark moved up to 30 and not past 31.
    expect(await watermark(w)).toEqual(await keyOf(30));
    expect((await watermark(w))!.at.getTime()).toBeGreaterThan(before!.at.getTime());

    // Still rejected on a rerun: the watermark holds, nothing is lost.
    expect((await runSync(w)).code).toBe(1);
    expect(await watermark(w)).toEqual(await keyOf(30));

    // Repair the document (what --reindex would do too); the next run converges.
    await w.es.index({ index, id: '31', document: source, refresh: true });
    const ok = await runSync(w);
    expect(ok.code).toBe(0);
    expect(ok.summary).toMatchObject({ synced: 2, failed: 0 }); // 31 and 32: everything after the watermark
    expect(await esCounts(w)).toEqual(await mysqlCounts(w));
    expect(await watermark(w)).toEqual(await keyOf(32));
  });

  it('a write block on the jav index fails every item: reported, watermark kept, converges once lifted', async () => {
    const index = await javIndex();
    const before = await watermark(w);
    await bumpCounts(w, [100, 101], 3);
    await w.es.indices.putSettings({ index, settings: { 'index.blocks.write': true } });
    try {
      const r = await runSync(w);
      expect(r.code).toBe(1);
      expect((await lastJobRun(w)).error).toMatch(/2 document\(s\) failed: 100 \(cluster_block_exception/);
      expect(await watermark(w)).toEqual(before);
    } finally {
      await w.es.indices.putSettings({ index, settings: { 'index.blocks.write': false } });
    }
    const ok = await runSync(w);
    expect(ok.code).toBe(0);
    expect(ok.summary).toMatchObject({ synced: 2, failed: 0 });
    expect(await esCounts(w)).toEqual(await mysqlCounts(w));
    expect(await watermark(w)).toEqual(await keyOf(101));
  });
});
