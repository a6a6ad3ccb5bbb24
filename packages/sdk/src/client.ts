import { randomUUID } from 'node:crypto';
import { retryDelayMs, sleep } from './backoff';
import { codeForStatus, TallyClientError, type RejectedEvent } from './errors';
import type { TallyEvent, TrackedEvent } from './events';
import { sendBatch, type SendOutcome, type TransportOptions } from './transport';

export interface TallyClientOptions {
  /** Full URL of the ingest endpoint, e.g. https://ingest.example.com/v1/events. */
  endpoint: string;
  /** Server key (sent as `Authorization: Bearer`). */
  key: string;
  /** Events per request; the ingest API takes at most 500 by default. */
  batchSize?: number;
  flushIntervalMs?: number;
  /** Events held at most, queued and in flight together. */
  maxQueue?: number;
  /** Retries after the first attempt, for network errors, timeouts, 429 and 5xx. */
  maxRetries?: number;
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** Per attempt, from sending the request to reading the whole response. */
  timeoutMs?: number;
  gzip?: boolean;
  fetch?: typeof fetch;
  /** Called for refused events and for batches whose retries ran out. Must not throw (it is caught). */
  onError?: (error: TallyClientError) => void;
}

export interface FlushResult {
  /** Events the server accepted. */
  accepted: number;
  /** Events the server refused, with its reasons; they are not re-sent, they would fail again. */
  rejected: RejectedEvent[];
  /**
   * Events every retry failed for. They went back to the head of the queue with the same ids and the
   * next flush sends them again; after close() nothing will, so the caller may persist them.
   */
  retained: TrackedEvent[];
  /** track() calls refused since the previous flush because the queue was full or the client closed. */
  dropped: number;
}

export interface TallyStats {
  queued: number;
  inFlight: number;
  accepted: number;
  rejected: number;
  dropped: number;
  retries: number;
}

type Settings = Required<Omit<TallyClientOptions, 'fetch' | 'onError'>>;

const DEFAULTS: Omit<Settings, 'endpoint' | 'key'> = {
  batchSize: 100,
  flushIntervalMs: 1000,
  maxQueue: 10_000,
  maxRetries: 5,
  retryBaseMs: 200,
  retryMaxMs: 30_000,
  timeoutMs: 5000,
  gzip: false,
};

/**
 * Batching client for the ingest API (Node 20+, global fetch).
 *
 * Full queue: track() rejects the newest event (returns false) rather than dropping the oldest. The
 * queue fills only while the ingest API is unreachable, and then the oldest events are the ones
 * already being retried; dropping them would lose events the caller was told were taken, silently,
 * while rejecting the newest tells the caller at the call site. Counts are what Tally computes, and
 * an old view counts as much as a new one, so recency buys nothing.
 */
export class TallyClient {
  private readonly settings: Settings;
  private readonly transport: TransportOptions;
  private readonly onError: (error: TallyClientError) => void;
  private queue: TrackedEvent[] = [];
  private inFlight = 0;
  private droppedSinceFlush = 0;
  private readonly totals = { accepted: 0, rejected: 0, dropped: 0, retries: 0 };
  private readonly timer: NodeJS.Timeout;
  private closed = false;
  // Flushes run one at a time, so batches leave in order and a retry never races a newer send.
  private running: Promise<unknown> = Promise.resolve();
  private nextFlush: Promise<FlushResult> | undefined;

  constructor(options: TallyClientOptions) {
    this.settings = validate({ ...DEFAULTS, ...withoutUndefined(options), endpoint: options.endpoint, key: options.key });
    const { endpoint, key, gzip, timeoutMs } = this.settings;
    this.transport = { endpoint, key, gzip, timeoutMs, fetch: options.fetch ?? globalThis.fetch };
    this.onError = options.onError ?? (() => undefined);
    this.timer = setInterval(() => this.autoFlush(), this.settings.flushIntervalMs);
    // Analytics must never be the reason a process stays up; close() is how a caller gets the last events out.
    this.timer.unref();
  }

  /** Queues an event, assigning event_id and occurred_at if missing. False when it was dropped. */
  track(event: TallyEvent): boolean {
    if (this.closed || this.queue.length + this.inFlight >= this.settings.maxQueue) {
      this.droppedSinceFlush += 1;
      this.totals.dropped += 1;
      return false;
    }
    this.queue.push({ ...event, event_id: event.event_id ?? randomUUID(), occurred_at: event.occurred_at ?? new Date().toISOString() });
    if (this.queue.length >= this.settings.batchSize) this.autoFlush();
    return true;
  }

  /** Sends everything queued now, in batches of at most batchSize. Never rejects. */
  flush(): Promise<FlushResult> {
    // A flush that has not started yet will take everything queued by then, so callers can share it.
    if (this.nextFlush) return this.nextFlush;
    const next = this.running.then(() => {
      this.nextFlush = undefined;
      return this.drain();
    });
    this.nextFlush = next;
    this.running = next.catch(() => undefined);
    return next;
  }

  /** Stops the timer and flushes; later track() calls are dropped. */
  close(): Promise<FlushResult> {
    clearInterval(this.timer);
    this.closed = true;
    return this.flush();
  }

  stats(): TallyStats {
    return { queued: this.queue.length, inFlight: this.inFlight, ...this.totals };
  }

  private autoFlush(): void {
    if (this.queue.length > 0) void this.flush();
  }

  private async drain(): Promise<FlushResult> {
    const result: FlushResult = { accepted: 0, rejected: [], retained: [], dropped: this.droppedSinceFlush };
    this.droppedSinceFlush = 0;
    const pending = this.queue.splice(0);
    this.inFlight = pending.length;
    const { batchSize } = this.settings;
    try {
      for (let start = 0; start < pending.length; start += batchSize) {
        const batch = pending.slice(start, start + batchSize);
        const outcome = await this.sendWithRetries(batch);
        if (outcome.kind === 'retry') {
          // The server is down for this client; the later batches would each sit through the same
          // backoff, so they all wait for the next flush, ahead of anything tracked meanwhile.
          result.retained = pending.slice(start);
          this.queue.unshift(...result.retained);
          this.report(
            new TallyClientError(
              'retries_exhausted',
              `gave up after ${this.settings.maxRetries + 1} attempts: ${outcome.reason}`,
              !this.closed,
              outcome.status,
              result.retained,
            ),
          );
          break;
        }
        this.record(outcome, batch, result);
        this.inFlight -= batch.length;
      }
    } finally {
      this.inFlight = 0;
    }
    return result;
  }

  private record(outcome: Exclude<SendOutcome, { kind: 'retry' }>, batch: TrackedEvent[], result: FlushResult): void {
    result.rejected.push(...outcome.rejected);
    this.totals.rejected += outcome.rejected.length;
    if (outcome.kind === 'accepted') {
      result.accepted += outcome.accepted;
      this.totals.accepted += outcome.accepted;
      if (outcome.rejected.length > 0) {
        this.report(
          new TallyClientError(
            'events_rejected',
            `${outcome.rejected.length} of ${batch.length} events rejected`,
            false,
            202,
            batch,
            outcome.rejected,
          ),
        );
      }
      return;
    }
    this.report(
      new TallyClientError(
        codeForStatus(outcome.status),
        `${outcome.code}: ${outcome.message}`,
        false,
        outcome.status,
        batch,
        outcome.rejected,
      ),
    );
  }

  private async sendWithRetries(batch: readonly TrackedEvent[]): Promise<SendOutcome> {
    const { maxRetries, retryBaseMs, retryMaxMs } = this.settings;
    for (let attempt = 0; ; attempt += 1) {
      const outcome = await sendBatch(this.transport, batch);
      if (outcome.kind !== 'retry' || attempt >= maxRetries) return outcome;
      this.totals.retries += 1;
      await sleep(retryDelayMs(attempt, retryBaseMs, retryMaxMs, outcome.retryAfterMs));
    }
  }

  private report(error: TallyClientError): void {
    try {
      this.onError(error);
    } catch {
      // A throwing handler must not abort the flush and strand the remaining batches.
    }
  }
}

function withoutUndefined<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as Partial<T>;
}

function validate(settings: Settings): Settings {
  new URL(settings.endpoint); // throws TypeError on a malformed endpoint, at construction rather than at the first flush
  if (settings.key === '') throw new RangeError('TallyClient: key must not be empty');
  const positive = ['batchSize', 'flushIntervalMs', 'maxQueue', 'retryBaseMs', 'retryMaxMs', 'timeoutMs'] as const;
  for (const name of positive) {
    if (!Number.isInteger(settings[name]) || settings[name] < 1) throw new RangeError(`TallyClient: ${name} must be a positive integer`);
  }
  if (!Number.isInteger(settings.maxRetries) || settings.maxRetries < 0)
    throw new RangeError('TallyClient: maxRetries must be an integer of 0 or more');
  return settings;
}
