import { createMongo } from '@tally/clients';
import { env, uniqueName } from '../helpers/env';

describe('smoke: MongoDB wire protocol (FerretDB) through the mongodb driver', () => {
  const client = createMongo({ url: env.MONGO_URL });
  const name = uniqueName('smoke');
  afterAll(async () => {
    await client
      .db()
      .collection(name)
      .drop()
      .catch(() => undefined);
    await client.close();
  });

  it('upserts, finds, sorts and aggregates with $match/$group/$sum', async () => {
    const col = client.db().collection<{ _id: string; kind: string; views: number }>(name);
    for (let i = 0; i < 10; i++) {
      await col.updateOne({ _id: `m${i}` }, { $set: { kind: i % 2 ? 'odd' : 'even', views: i * 10 } }, { upsert: true });
    }
    // Upsert of an existing id replaces, never duplicates.
    await col.updateOne({ _id: 'm3' }, { $set: { views: 1000 } }, { upsert: true });
    expect(await col.countDocuments()).toBe(10);
    expect(await col.findOne({ _id: 'm3' })).toEqual({ _id: 'm3', kind: 'odd', views: 1000 });

    const top = await col.find({}).sort({ views: -1 }).limit(3).toArray();
    expect(top.map((d) => d._id)).toEqual(['m3', 'm9', 'm8']);

    // One accumulator per $group: FerretDB 1.24 computes only the first accumulator of a $group and
    // returns 0 for the others (seen here), so Tally aggregates in MySQL and stores finished documents.
    const totals = await col
      .aggregate<{ _id: string; total: number }>([
        { $match: { views: { $gte: 10 } } },
        { $group: { _id: '$kind', total: { $sum: '$views' } } },
        { $sort: { _id: 1 } },
      ])
      .toArray();
    expect(totals).toEqual([
      { _id: 'even', total: 20 + 40 + 60 + 80 },
      { _id: 'odd', total: 10 + 1000 + 50 + 70 + 90 },
    ]);
    const counts = await col
      .aggregate<{ _id: string; n: number }>([
        { $match: { views: { $gte: 10 } } },
        { $group: { _id: '$kind', n: { $sum: 1 } } },
        { $sort: { _id: 1 } },
      ])
      .toArray();
    expect(counts).toEqual([
      { _id: 'even', n: 4 },
      { _id: 'odd', n: 5 },
    ]);
  });
});
