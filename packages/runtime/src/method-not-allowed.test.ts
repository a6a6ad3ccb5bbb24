import Fastify from 'fastify';
import { answerUnservedMethods } from './method-not-allowed';

async function app() {
  const a = Fastify();
  answerUnservedMethods(a, (req, reply) => reply.code(404).send({ error: { code: 'NOPE', message: req.url } }));
  a.post('/v1/events', async () => ({}));
  a.get('/v1/movies/:id/counts', async () => ({}));
  await a.register(async (child) => child.put('/items/:id', async () => ({})), { prefix: '/v2' });
  a.options('*', async () => ''); // like @fastify/cors' preflight route
  await a.ready();
  return a;
}

describe('answerUnservedMethods', () => {
  it.each([
    ['GET', '/v1/events', 'POST, OPTIONS'],
    ['DELETE', '/v1/movies/42/counts?x=1', 'GET, HEAD, OPTIONS'],
    ['GET', '/v2/items/7', 'PUT, OPTIONS'],
  ])('%s %s → 405 with Allow: %s', async (method, url, allow) => {
    const res = await (await app()).inject({ method: method as 'GET', url });
    expect([res.statusCode, res.headers.allow, res.json().error.code]).toEqual([405, allow, 'METHOD_NOT_ALLOWED']);
  });

  it('leaves an unknown path to the not-found handler, a catch-all route making no path known', async () => {
    const res = await (await app()).inject({ method: 'GET', url: '/v1/movies/42' });
    expect([res.statusCode, res.json()]).toEqual([404, { error: { code: 'NOPE', message: '/v1/movies/42' } }]);
  });
});
