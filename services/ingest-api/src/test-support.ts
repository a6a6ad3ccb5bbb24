import type { EventType, TallyEvent } from '@tally/events';
import { DependencyError, ServiceMetrics, createLogger } from '@tally/runtime';
import { buildApp } from './app';
import { loadIngestConfig } from './config';
import { clientEvents } from './fuzz-payloads';

export { clientEvents };

export function clientEvent(type: EventType): Record<string, unknown> {
  return clientEvents().find((e) => e.type === type)!;
}

/** The app with a recording producer (or a failing one), for tests of the HTTP edge. */
export async function testApp(env: Record<string, string> = {}, opts: { failProduce?: boolean; now?: number } = {}) {
  const produced: TallyEvent[][] = [];
  const config = loadIngestConfig({ BROWSER_KEYS: 'bk-1', SERVER_KEYS: 'sk-1', ...env });
  const app = await buildApp({
    config,
    logger: createLogger({ service: 'ingest-test', level: 'silent' }),
    metrics: new ServiceMetrics('ingest_test', { defaultMetrics: false }),
    produce: async (events) => {
      if (opts.failProduce) throw new DependencyError('kafka', 'no acknowledgement within 5000 ms');
      produced.push(events);
    },
    readiness: [],
    ...(opts.now ? { now: () => opts.now! } : {}),
  });
  return { app, produced };
}
