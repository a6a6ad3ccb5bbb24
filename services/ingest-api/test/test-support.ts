import type { EventType, TallyEvent } from '@tally/events';
import { DependencyError, ServiceMetrics, createLogger } from '@tally/runtime';
import { buildApp } from '../src/app';
import { loadIngestConfig } from '../src/config';
import { clientEvents } from './fuzz-payloads';
import { ViewWindow, type CountedView, type CountedViewStore } from '../src/view-window';

export { clientEvents };

export function clientEvent(type: EventType): Record<string, unknown> {
  return clientEvents().find((e) => e.type === type)!;
}

/** Redis's SET NX PX GET and compare-and-delete over a map, on a clock the test moves; `failing` plays an outage. */
export class MemoryCountedViews implements CountedViewStore {
  readonly held = new Map<string, { eventId: string; expiresAt: number }>();
  now = 0;
  failing = false;
  roundTrips = 0;

  async claim(views: readonly CountedView[], ttlMs: number): Promise<(string | null)[]> {
    this.trip();
    return views.map((v) => {
      const h = this.held.get(v.key);
      if (h && h.expiresAt > this.now) return h.eventId;
      this.held.set(v.key, { eventId: v.eventId, expiresAt: this.now + ttlMs });
      return null;
    });
  }

  async release(views: readonly CountedView[]): Promise<void> {
    this.trip();
    for (const v of views) if (this.held.get(v.key)?.eventId === v.eventId) this.held.delete(v.key);
  }

  private trip(): void {
    this.roundTrips++;
    if (this.failing) throw new Error('connect ECONNREFUSED 127.0.0.1:6379');
  }
}

/**
 * The app with a recording producer (or a failing one), for tests of the HTTP edge. With
 * VIEW_DEDUP_WINDOW in `env` the window runs over `opts.countedViews` (a fresh map by default).
 */
export async function testApp(
  env: Record<string, string> = {},
  opts: { failProduce?: boolean | (() => boolean); now?: number; countedViews?: CountedViewStore } = {},
) {
  const produced: TallyEvent[][] = [];
  const config = loadIngestConfig({ BROWSER_KEYS: 'bk-1', SERVER_KEYS: 'sk-1', ...env });
  const logger = createLogger({ service: 'ingest-test', level: 'silent' });
  const metrics = new ServiceMetrics('ingest_test', { defaultMetrics: false });
  const failProduce = typeof opts.failProduce === 'function' ? opts.failProduce : () => opts.failProduce === true;
  const app = await buildApp({
    config,
    logger,
    metrics,
    produce: async (events) => {
      if (failProduce()) throw new DependencyError('kafka', 'no acknowledgement within 5000 ms');
      produced.push(events);
    },
    readiness: [],
    ...(config.VIEW_DEDUP_WINDOW !== undefined
      ? {
          viewWindow: new ViewWindow(
            opts.countedViews ?? new MemoryCountedViews(),
            { windowMs: config.VIEW_DEDUP_WINDOW, topicPrefix: config.TOPIC_PREFIX },
            logger,
          ),
        }
      : {}),
    ...(opts.now ? { now: () => opts.now! } : {}),
  });
  return { app, produced, metrics };
}
