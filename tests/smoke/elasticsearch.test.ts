import { createElasticsearchClient } from '@tally/clients';
import { env, uniqueName } from '../helpers/env';

describe(`smoke: search engine (${env.ES_FLAVOR}) through @elastic/elasticsearch`, () => {
  const es = createElasticsearchClient({ url: env.ES_URL, flavor: env.ES_FLAVOR });
  const index = uniqueName('smoke_jav');
  afterAll(async () => {
    await es.indices.delete({ index }, { ignore: [404] });
    await es.close();
  });

  it('creates an index with a mapping, applies bulk partial updates, searches sorted by a number', async () => {
    await es.indices.create({
      index,
      mappings: { properties: { title: { type: 'text' }, views: { type: 'long' }, provider: { type: 'keyword' } } },
      settings: { number_of_shards: 1, number_of_replicas: 0 },
    });
    await es.bulk({
      refresh: true,
      operations: [1, 2, 3].flatMap((id) => [
        { index: { _index: index, _id: String(id) } },
        { title: `movie ${id}`, views: id, provider: 'p' },
      ]),
    });
    // Partial updates of the counters only, as es-sync does; one item targets a missing document.
    const res = await es.bulk({
      refresh: true,
      operations: [
        { update: { _index: index, _id: '1' } },
        { doc: { views: 500 } },
        { update: { _index: index, _id: '2' } },
        { doc: { views: 20 } },
        { update: { _index: index, _id: '404' } },
        { doc: { views: 1 } },
      ],
    });
    expect(res.errors).toBe(true);
    expect(res.items.map((i) => i.update?.status)).toEqual([200, 200, 404]);

    const hits = await es.search<{ title: string; views: number }>({ index, sort: [{ views: { order: 'desc' } }] });
    expect(hits.hits.hits.map((h) => [h._id, h._source!.views])).toEqual([
      ['1', 500],
      ['2', 20],
      ['3', 3],
    ]);
    expect((await es.get<{ title: string }>({ index, id: '1' }))._source!.title).toBe('movie 1');
  });
});
