import Fastify, { type FastifyInstance, type FastifySchema } from 'fastify';
import type { Logger } from 'pino';
import type { ServiceMetrics } from './metrics';
import { errorMessage } from './errors';

/** A dependency the service needs; `check` throws (with a reason) while it is not usable. */
export interface ReadinessCheck {
  name: string;
  check: () => Promise<unknown> | unknown;
}

export interface ManagementSettings {
  port: number;
  host?: string;
  metrics: ServiceMetrics;
  logger: Logger;
  checks?: ReadinessCheck[];
  /** Per-check limit: a hung dependency must not hang the probe (Kubernetes' default timeout is 1 s). */
  checkTimeoutMs?: number;
}

export interface ManagementServer {
  url: string;
  addCheck(check: ReadinessCheck): void;
  /** From now on /readyz answers 503 (shutdown in progress), so load balancers stop sending work. */
  markShuttingDown(): void;
  close(): Promise<void>;
}

async function runCheck(c: ReadinessCheck, timeoutMs: number): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      Promise.resolve().then(c.check),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return 'ok';
  } catch (err) {
    return errorMessage(err);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The three probes every Tally process answers, on its own port (management server) or beside its
 * API (ingest-api, query-api): /healthz alive; /readyz every check passes within its time limit (503
 * with each check's answer otherwise, and while shutting down); /metrics in Prometheus text format.
 * Hidden from OpenAPI documents.
 */
export function healthRoutes(
  app: FastifyInstance,
  o: { checks: readonly ReadinessCheck[]; metrics: ServiceMetrics; checkTimeoutMs?: number; isShuttingDown?: () => boolean },
): void {
  const timeout = o.checkTimeoutMs ?? 1_000;
  // `hide` is @fastify/swagger's schema extension: the probes stay out of the services' OpenAPI documents.
  const hidden = { schema: { hide: true } as FastifySchema };
  app.get('/healthz', hidden, async () => ({ status: 'ok' }));
  app.get('/readyz', hidden, async (_req, reply) => {
    const results = Object.fromEntries(await Promise.all(o.checks.map(async (c) => [c.name, await runCheck(c, timeout)] as const)));
    const shuttingDown = o.isShuttingDown?.() ?? false;
    const ready = !shuttingDown && Object.values(results).every((r) => r === 'ok');
    return reply.code(ready ? 200 : 503).send({ ready, ...(shuttingDown ? { reason: 'shutting down' } : {}), checks: results });
  });
  app.get('/metrics', hidden, async (_req, reply) => reply.type(o.metrics.registry.contentType).send(await o.metrics.registry.metrics()));
}

/**
 * /healthz: the process is alive. /readyz: every dependency answers (and, for consumers, the group
 * assigned partitions). /metrics: Prometheus text format.
 */
export async function startManagementServer(s: ManagementSettings): Promise<ManagementServer> {
  const checks = [...(s.checks ?? [])];
  let shuttingDown = false;
  const app: FastifyInstance = Fastify({ logger: false });
  const timeout = s.checkTimeoutMs ?? 1_000;

  healthRoutes(app, { checks, metrics: s.metrics, checkTimeoutMs: timeout, isShuttingDown: () => shuttingDown });

  const address = await app.listen({ port: s.port, host: s.host ?? '127.0.0.1' });
  s.logger.info({ url: address }, 'management server listening');
  return {
    url: address,
    addCheck: (c) => void checks.push(c),
    markShuttingDown: () => {
      shuttingDown = true;
    },
    close: () => app.close(),
  };
}
