import FindMyWay from 'find-my-way';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

// The methods an Allow header can list, in the order RFC 9110 names them.
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
const CATCH_ALL = new Set(['*', '/*']);

export type NotFoundHandler = (req: FastifyRequest, reply: FastifyReply) => unknown;

const defaultNotFound: NotFoundHandler = (req, reply) =>
  reply.code(404).send({ error: { code: 'ROUTE_NOT_FOUND', message: `no route ${req.method} ${req.url.split('?')[0]}` } });

/**
 * A request whose path is served, but not with its method, answers 405 with Allow (RFC 9110 §15.5.6)
 * instead of fastify's 404; an unknown path still gets `notFound`. Call it before any route is
 * registered: it keeps its own router of every route's path (fastify's answers only for the method
 * asked) through the onRoute hook. A catch-all route (`*`, as @fastify/cors registers for OPTIONS)
 * adds its methods to the Allow of a known path but makes no unknown path known.
 */
export function answerUnservedMethods(app: FastifyInstance, notFound: NotFoundHandler = defaultNotFound): void {
  const paths = FindMyWay({ defaultRoute: () => undefined });
  const everywhere = new Set<string>();
  const noop = () => undefined;
  app.addHook('onRoute', (route) => {
    const methods = [route.method].flat().map((m) => m.toUpperCase());
    // fastify answers HEAD for every GET route unless told not to.
    if (methods.includes('GET') && route.exposeHeadRoute !== false) methods.push('HEAD');
    for (const m of methods) {
      if (CATCH_ALL.has(route.url)) everywhere.add(m);
      else if (paths.find(m as 'GET', route.url) === null) paths.on(m as 'GET', route.url, noop);
    }
  });
  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?')[0]!;
    const served = METHODS.filter((m) => paths.find(m, path) !== null);
    if (served.length === 0) return notFound(req, reply);
    const allow = METHODS.filter((m) => served.includes(m) || everywhere.has(m)).join(', ');
    return reply
      .code(405)
      .header('allow', allow)
      .send({ error: { code: 'METHOD_NOT_ALLOWED', message: `${req.method} is not served at ${path}; it serves ${allow}` } });
  });
}

/** The 405 as an OpenAPI 3.0 response, for each service's `components.responses.MethodNotAllowed`. */
export const METHOD_NOT_ALLOWED_RESPONSE = {
  description: 'The path exists but not with this method (error.code METHOD_NOT_ALLOWED); Allow lists the methods it serves',
  headers: { Allow: { description: 'The methods the path serves, e.g. "POST, OPTIONS"', schema: { type: 'string' as const } } },
};
