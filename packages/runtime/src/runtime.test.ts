import { Writable } from 'node:stream';
import {
  createLogger,
  Lifecycle,
  ServiceMetrics,
  startManagementServer,
  TallyError,
  DependencyError,
  isRetriable,
  errorCode,
} from './index';

function memoryLogger(redact = false) {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      lines.push(JSON.parse(String(chunk)));
      cb();
    },
  });
  return { logger: createLogger({ service: 'test', level: 'info', redactPersonalData: redact, destination }), lines };
}

describe('logger', () => {
  it('writes JSON with the service name and redacts personal data when asked', () => {
    const plain = memoryLogger(false);
    plain.logger.info({ event: { ip: '1.2.3.4', user_agent: 'UA' } }, 'hello');
    expect(plain.lines[0]).toMatchObject({ service: 'test', level: 'info', msg: 'hello', event: { ip: '1.2.3.4' } });
    const redacted = memoryLogger(true);
    redacted.logger.info({ ip: '1.2.3.4', event: { ip: '5.6.7.8', user_agent: 'UA' } }, 'hello');
    expect(redacted.lines[0]).toMatchObject({ ip: '[redacted]', event: { ip: '[redacted]', user_agent: '[redacted]' } });
  });
});

describe('errors', () => {
  it('carry code, retriable flag and status', () => {
    const e = new DependencyError('kafka', 'no ack within 5000 ms');
    expect([e.code, e.retriable, e.httpStatus, e.message]).toEqual(['KAFKA_UNAVAILABLE', true, 503, 'kafka: no ack within 5000 ms']);
    const bad = new TallyError('VALIDATION_FAILED', 'bad', { httpStatus: 400 });
    expect([isRetriable(bad), errorCode(bad), bad.httpStatus]).toEqual([false, 'VALIDATION_FAILED', 400]);
    expect(isRetriable(new Error('unknown'))).toBe(true);
  });
});

describe('Lifecycle', () => {
  it('runs shutdown steps in reverse registration order, once, then exits with the code', async () => {
    const { logger } = memoryLogger();
    const order: string[] = [];
    const exits: number[] = [];
    const lc = new Lifecycle(logger, { shutdownTimeoutMs: 1_000, exit: (c) => void exits.push(c) });
    lc.onShutdown('close clients', () => void order.push('clients'));
    lc.onShutdown('flush producer', async () => void order.push('producer'));
    lc.onShutdown('stop consumer', () => void order.push('consumer'));
    await Promise.all([lc.shutdown(0), lc.shutdown(0)]);
    expect(order).toEqual(['consumer', 'producer', 'clients']);
    expect(exits).toEqual([0]);
  });

  it('exits non-zero when a step fails, after running the others', async () => {
    const { logger, lines } = memoryLogger();
    const exits: number[] = [];
    const order: string[] = [];
    const lc = new Lifecycle(logger, { shutdownTimeoutMs: 1_000, exit: (c) => void exits.push(c) });
    lc.onShutdown('a', () => void order.push('a'));
    lc.onShutdown('b', () => {
      throw new Error('boom');
    });
    await lc.shutdown(0);
    expect(order).toEqual(['a']);
    expect(exits).toEqual([1]);
    expect(lines.some((l) => l.msg === 'shutdown step failed' && l.step === 'b')).toBe(true);
  });

  it('fatal: logs the error and also writes its message to stderr as plain text, newlines kept', async () => {
    const { logger, lines } = memoryLogger();
    const exits: number[] = [];
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const lc = new Lifecycle(logger, { shutdownTimeoutMs: 1_000, exit: (c) => void exits.push(c) });
      lc.fatal(new TallyError('CATALOG_MISMATCH', 'the schema does not match:\nproblem  jav.code does not exist'), 'start failed');
      await lc.shutdown(1);
      expect(stderr.mock.calls.map((c) => String(c[0]))).toEqual([
        'test: start failed: CATALOG_MISMATCH: the schema does not match:\nproblem  jav.code does not exist\n',
      ]);
    } finally {
      stderr.mockRestore();
    }
    expect(exits).toEqual([1]);
    expect(lines[0]).toMatchObject({ level: 'fatal', msg: 'start failed', err: { code: 'CATALOG_MISMATCH' } });
  });

  it('exits when the deadline passes even if a step hangs', async () => {
    const { logger } = memoryLogger();
    const exits: number[] = [];
    const lc = new Lifecycle(logger, { shutdownTimeoutMs: 50, exit: (c) => void exits.push(c) });
    lc.onShutdown('hang', () => new Promise(() => undefined));
    void lc.shutdown(0);
    await new Promise((r) => setTimeout(r, 120));
    expect(exits).toEqual([1]);
  });
});

describe('management server', () => {
  it('answers /healthz, /readyz with each check, and /metrics named tally_<thing> with the service as a label', async () => {
    const { logger } = memoryLogger();
    const metrics = new ServiceMetrics('unit-test', { defaultMetrics: false });
    metrics.counter('things_total', 'things').inc(3);
    let dbUp = false;
    const server = await startManagementServer({
      port: 0,
      metrics,
      logger,
      checks: [
        {
          name: 'mysql',
          check: () => {
            if (!dbUp) throw new Error('connect ECONNREFUSED');
          },
        },
      ],
      checkTimeoutMs: 100,
    });
    try {
      server.addCheck({ name: 'slow', check: () => new Promise((r) => setTimeout(r, 10)) });
      expect(await (await fetch(`${server.url}/healthz`)).json()).toEqual({ status: 'ok' });
      const notReady = await fetch(`${server.url}/readyz`);
      expect(notReady.status).toBe(503);
      expect(await notReady.json()).toEqual({ ready: false, checks: { mysql: 'connect ECONNREFUSED', slow: 'ok' } });
      dbUp = true;
      expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
      server.markShuttingDown();
      expect(await (await fetch(`${server.url}/readyz`)).json()).toMatchObject({ ready: false, reason: 'shutting down' });
      const text = await (await fetch(`${server.url}/metrics`)).text();
      expect(text).toContain('tally_things_total{service="unit-test"} 3');
    } finally {
      await server.close();
    }
  });

  it('fails a check that does not answer in time', async () => {
    const { logger } = memoryLogger();
    const server = await startManagementServer({
      port: 0,
      metrics: new ServiceMetrics('t', { defaultMetrics: false }),
      logger,
      checkTimeoutMs: 50,
      checks: [{ name: 'hung', check: () => new Promise(() => undefined) }],
    });
    try {
      expect(await (await fetch(`${server.url}/readyz`)).json()).toEqual({ ready: false, checks: { hung: 'no answer within 50 ms' } });
    } finally {
      await server.close();
    }
  });
});

describe('service metrics', () => {
  it('keep the standard Node.js and process names, labelled with the service', async () => {
    const metrics = new ServiceMetrics('counter');
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/^process_cpu_seconds_total\{service="counter"\} /m);
    expect(text).toMatch(/^nodejs_heap_size_used_bytes\{service="counter"\} /m);
    expect(text).not.toMatch(/^# TYPE (?!process_|nodejs_)/m); // no prefix of the service's own
    // promtool flags `_total` on a gauge; the per-type gauges carry the same figure.
    expect(text).not.toMatch(/^# TYPE nodejs_active_\w+_total /m);
    expect(text).toMatch(/^# TYPE nodejs_active_handles gauge/m);
  });
});
