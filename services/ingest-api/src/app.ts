import { fastifyTrustProxy } from '@tally/config';
import Fastify, { LogController, type FastifyError, type FastifyInstance, type FastifyRequest, type RawServerDefault } from 'fastify';
import type { IncomingMessage, ServerResponse } from 'node:http';
import compress from '@fastify/compress';
import cors from '@fastify/cors';
import rateLimit from '@fastify/rate-limit';
import swagger, { type FastifyDynamicSwaggerOptions } from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { TallyError, answerUnservedMethods, healthRoutes, type Logger, type ServiceMetrics } from '@tally/runtime';
import type { TallyEvent } from '@tally/events';
import type { Redis } from 'ioredis';
import { KeyRing, presentedKey, type WriteKey } from './auth';
import { cachedBotDetector } from './bot-detector';
import type { IngestConfig } from './config';
import { eventsOf, intake, userTokenOf } from './handler';
import { eventsRouteSchema, openApiInfo } from './openapi';
import { UserTokens } from './user-token';
import type { ViewWindow } from './view-window';

export interface IngestDeps {
  config: Readonly<IngestConfig>;
  logger: Logger;
  metrics: ServiceMetrics;
  produce: (events: TallyEvent[]) => Promise<void>;
  /** Throws while a dependency is unusable; shown per check on /readyz. */
  readiness: { name: string; check: () => Promise<unknown> | unknown }[];
  /** VIEW_DEDUP_WINDOW; absent when the window is off (every view counts). */
  viewWindow?: Pick<ViewWindow, 'mark' | 'release'>;
  /** Where the rate limits are counted, shared by every instance; absent = in this process only (tests). */
  rateLimitRedis?: Redis;
  now?: () => number;
}

declare module 'fastify' {
  interface FastifyRequest {
    writeKey?: WriteKey;
  }
}

/** The HTTP edge; every dependency is passed in, so tests can run it with fakes or the real stack. */
export async function buildApp(d: IngestDeps): Promise<FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, Logger>> {
  const { config } = d;
  const app = Fastify({
    loggerInstance: d.logger,
    // No per-request log lines: one per event request would cost more than the request itself.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.BODY_LIMIT_BYTES,
    trustProxy: fastifyTrustProxy(config.TRUSTED_PROXIES),
    return503OnClosing: true,
  });
  const m = {
    accepted: d.metrics.counter('events_accepted_total', 'Events acknowledged by Kafka', ['type']),
    rejected: d.metrics.counter('events_rejected_total', 'Events refused, by reason', ['reason']),
    requests: d.metrics.counter('event_requests_total', 'Event requests by status', ['status']),
    produce: d.metrics.histogram(
      'produce_duration_seconds',
      "Time until Kafka acknowledged a request's events",
      [],
      [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
    ),
    // Exported with the window off too (as zeros), so dashboards and alerts need not know the setting.
    repeats: d.metrics.counter(
      'views_repeated_total',
      'Views Kafka acknowledged flagged repeat_view by VIEW_DEDUP_WINDOW (logged, not counted)',
    ),
    dedupFailures: d.metrics.counter(
      'view_dedup_failures_total',
      'Requests whose views were all counted unchecked because Redis did not answer (fail open)',
    ),
    guests: d.metrics.counter(
      'events_user_unproven_total',
      "Browser events whose user_id had no valid user token, kept as guests' events, by problem",
      ['problem'],
    ),
  };
  // First, so its onRoute hook sees every route: GET /v1/events answers 405 with Allow, not 404.
  answerUnservedMethods(app as unknown as FastifyInstance);
  const keys = new KeyRing(config.BROWSER_KEYS, config.SERVER_KEYS, config.KEY_EVENT_TYPES);
  const tokens = new UserTokens(config.USER_TOKEN_SECRETS ?? [], config.USER_TOKEN_MAX_TTL);
  const now = d.now ?? Date.now;
  const isBot = cachedBotDetector();
  const keyOf = (req: FastifyRequest) => presentedKey(req.headers, req.query);

  app.setErrorHandler((err: FastifyError | TallyError, req, reply) => {
    const status = err instanceof TallyError ? err.httpStatus : (err.statusCode ?? 500);
    const code = err instanceof TallyError ? err.code : bodyErrorCode(err);
    if (status >= 500 && !(err instanceof TallyError && err.retriable)) req.log.error({ err }, 'unexpected error');
    if (status === 503) reply.header('retry-after', String(config.RETRY_AFTER_SECONDS));
    m.requests.inc({ status: String(status) });
    if (status === 400 || status === 413 || status === 415) m.rejected.inc({ reason: code });
    const message =
      err instanceof TallyError ? err.message : status >= 500 ? 'internal error' : bodyErrorMessage(err, req, config.BODY_LIMIT_BYTES);
    return reply.code(status).send({ error: { code, message } });
  });

  await app.register(compress, {
    global: true,
    globalCompression: false, // responses are tiny; only request bodies may be gzip
    requestEncodings: ['gzip'],
    onUnsupportedRequestEncoding: (encoding) =>
      new TallyError('ENCODING_UNSUPPORTED', `Content-Encoding '${encoding}' is not supported; send gzip or nothing`, { httpStatus: 415 }),
    // compress copies only this error's enumerable fields (the code) onto zlib's error; bodyErrorMessage words it.
    onInvalidRequestPayload: () => new TallyError('GZIP_INVALID', 'body is not valid gzip', { httpStatus: 400 }),
  });
  await app.register(cors, {
    origin: config.CORS_ORIGINS.includes('*') ? true : [...config.CORS_ORIGINS],
    methods: ['POST', 'GET', 'OPTIONS'],
    maxAge: 600,
  });
  // Server keys are limited per key (the web app's back end sends everyone's events from a few
  // addresses), browser keys per key and client ip. Buckets name keys by their public id, never the
  // key itself; unknown keys share the ip's '-' bucket: one bucket per guessed key would leave
  // guessing unlimited. With Redis the buckets are shared by every instance, so scaling out does not
  // multiply the limit; Redis not answering lets the request through (skipOnError: fail open).
  const bucket = (req: FastifyRequest) => {
    const key = keys.find(keyOf(req));
    return key?.kind === 'server' ? `s:${key.id}` : `b:${key ? key.id : '-'}|${req.ip}`;
  };
  await app.register(rateLimit, {
    global: false,
    max: (_req, b) => (b.startsWith('s:') ? config.RATE_LIMIT_SERVER_MAX : config.RATE_LIMIT_MAX),
    timeWindow: config.RATE_LIMIT_WINDOW,
    keyGenerator: bucket,
    ...(d.rateLimitRedis ? { redis: d.rateLimitRedis, nameSpace: 'tally:ingest:rate:', skipOnError: true } : {}),
    errorResponseBuilder: (req, ctx) =>
      new TallyError(
        'RATE_LIMITED',
        `rate limit of ${ctx.max} requests per ${ctx.after} exceeded for this ${bucket(req).startsWith('s:') ? 'server key' : 'key and ip'}; retry after ${Math.ceil(ctx.ttl / 1000)} s`,
        { httpStatus: 429 },
      ),
  });
  await app.register(swagger, { openapi: openApiInfo(config.MAX_EVENTS_PER_REQUEST) as FastifyDynamicSwaggerOptions['openapi'] });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  // sendBeacon cannot set Content-Type: application/json, so text/plain bodies carry JSON too.
  app.addContentTypeParser('text/plain', { parseAs: 'string' }, app.getDefaultJsonParser('error', 'error'));

  app.post('/v1/events', {
    schema: eventsRouteSchema(config.MAX_EVENTS_PER_REQUEST, config.BODY_LIMIT_BYTES),
    validatorCompiler: () => () => true, // per-event validation below reports index, field and reason
    config: { rateLimit: {} },
    // preParsing, not onRequest: the rate limit (an onRequest hook) must count refused keys too, and
    // the key is still checked before a byte of the body is read.
    preParsing: async (req, _reply, payload) => {
      req.writeKey = keys.resolve(keyOf(req));
      return payload;
    },
    handler: async (req, reply) => {
      const events = eventsOf(req.body, config.MAX_EVENTS_PER_REQUEST);
      const token = userTokenOf(req.body, req.headers);
      const receivedAt = now();
      let proof: ReturnType<UserTokens['check']> | undefined;
      const result = intake(events, {
        key: req.writeKey!,
        userProof: () => (proof ??= tokens.check(token, receivedAt)),
        ip: req.ip,
        userAgent: typeof req.headers['user-agent'] === 'string' ? req.headers['user-agent'] : null,
        receivedAt,
        isBot,
        anonymizeIp: config.ANONYMIZE_IP,
      });
      for (const e of result.errors) m.rejected.inc({ reason: `invalid:${e.field}` });
      if (result.accepted.length === 0) {
        // Every event refused for its type alone: the key, not the events, is what to change.
        const forbidden = result.forbidden === events.length;
        m.requests.inc({ status: forbidden ? '403' : '400' });
        return reply.code(forbidden ? 403 : 400).send({
          error: forbidden
            ? { code: 'EVENT_TYPE_FORBIDDEN', message: 'this key may not send any of the event types in the request' }
            : { code: 'VALIDATION_FAILED', message: 'no valid event in the request' },
          errors: result.errors,
        });
      }
      for (const a of result.accepted) if (a.guest) m.guests.inc({ problem: a.guest.problem });
      const batch = result.accepted.map((a) => a.event);
      const { viewWindow } = d;
      const marking = viewWindow ? await viewWindow.mark(batch) : undefined;
      if (marking?.failedOpen) m.dedupFailures.inc();
      const t0 = process.hrtime.bigint();
      try {
        await d.produce(batch); // throws DependencyError → 503
      } catch (err) {
        if (viewWindow && marking) await viewWindow.release(marking);
        throw err;
      }
      m.produce.observe(Number(process.hrtime.bigint() - t0) / 1e9);
      if (marking) m.repeats.inc(marking.repeats);
      for (const a of result.accepted) m.accepted.inc({ type: a.event.type });
      m.requests.inc({ status: '202' });
      return reply.code(202).send({
        accepted: result.accepted.length,
        rejected: events.length - result.accepted.length,
        events: result.accepted.map((a) => ({
          index: a.index,
          event_id: a.event.payload.event_id,
          identity: a.identity,
          ...(a.guest ? { notice: a.guest.notice } : {}),
        })),
        errors: result.errors,
      });
    },
  });

  // The app's logger type is pino's; the probes do not log, so the plain instance type is enough.
  healthRoutes(app as unknown as FastifyInstance, { checks: d.readiness, metrics: d.metrics });
  return app;
}

/** Fastify's own body errors, reworded to name the header or limit the client has to change. */
function bodyErrorMessage(err: FastifyError, req: FastifyRequest, bodyLimit: number): string {
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return `body is larger than the limit of ${bodyLimit} bytes (counted after any gzip decompression)`;
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE': {
      const type = req.headers['content-type'];
      return `Content-Type ${type ? `'${type}'` : '(none)'} is not supported; send application/json, or text/plain carrying JSON`;
    }
    case 'GZIP_INVALID':
      return `body is not valid gzip: ${err.message}`;
    default:
      return err.message;
  }
}

/** Fastify's own body errors, renamed to the codes the API documents. */
function bodyErrorCode(err: FastifyError): string {
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return 'BODY_TOO_LARGE';
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return 'CONTENT_TYPE_UNSUPPORTED';
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return 'BODY_EMPTY';
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return 'JSON_INVALID';
    default:
      return err.code ?? 'ERROR';
  }
}
