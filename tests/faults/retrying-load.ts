import type { ClientEvent, World } from './world';

/** One POST of a batch: when it started, how long it took, and what came back. */
export interface Attempt {
  at: number;
  ms: number;
  /** HTTP status; 0 when no answer came within `hangMs` or the connection failed. */
  status: number;
  detail?: string;
}

export interface RetryingLoadOptions {
  batch?: number;
  /** Pause between two batches that were accepted. */
  paceMs?: number;
  /** Pause before resubmitting a refused batch (a real client honours Retry-After; tests cannot wait 5 s). */
  retryMs?: number;
  /** An answer slower than this counts as a hang (status 0); the request is abandoned and retried. */
  hangMs?: number;
  /** Batches posted at once (more requests in the outage window). */
  concurrency?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Load from a well-behaved client during a dependency outage: every batch is resubmitted, with the
 * same event ids, until the ingest API answers 202. A 503 says "not acknowledged", not "not
 * stored" (a produce that timed out may still land), so only resubmitting makes the oracle complete;
 * the copies that land twice are what the sinks' dedup by event_id must absorb.
 *
 * Only the 202 answers enter the world's oracle (`world.post`); every attempt is recorded, so a
 * test can say what the API answered while the dependency was gone.
 */
export class RetryingLoad {
  readonly attempts: Attempt[] = [];
  /** Events of batches acknowledged with 202. */
  acknowledged = 0;
  /** Batches given up (never acknowledged) because of `abort()` or the deadline of `stop()`. */
  abandoned = 0;
  private stopped = false;
  private giveUpAt = Infinity;
  private readonly runs: Promise<void>[] = [];

  constructor(
    private readonly world: World,
    private readonly o: RetryingLoadOptions = {},
  ) {
    for (let i = 0; i < (o.concurrency ?? 1); i++) this.runs.push(this.run());
  }

  /**
   * Finishes the batches in flight (each until acknowledged, for at most `giveUpAfterMs`), then
   * resolves; a batch given up counts in `abandoned` (a test asserts 0: its events may still land).
   */
  async stop(giveUpAfterMs = 60_000): Promise<void> {
    this.stopped = true;
    this.giveUpAt = Math.min(this.giveUpAt, Date.now() + giveUpAfterMs);
    await Promise.all(this.runs);
  }

  /** Stops at once without waiting for acknowledgements (a failing test must not hang in its loops). */
  async abort(): Promise<void> {
    await this.stop(0);
  }

  /** Attempts that started within [from, to). */
  between(from: number, to = Infinity): Attempt[] {
    return this.attempts.filter((a) => a.at >= from && a.at < to);
  }

  /** Waits until `n` more events were acknowledged than when called. */
  async acknowledgedMore(n: number, timeoutMs: number, what: string): Promise<void> {
    const target = this.acknowledged + n;
    const deadline = Date.now() + timeoutMs;
    while (this.acknowledged < target) {
      if (Date.now() > deadline)
        throw new Error(
          `timed out after ${timeoutMs} ms waiting for ${n} events acknowledged ${what}; last answers: ${JSON.stringify(this.attempts.slice(-5))}`,
        );
      await sleep(100);
    }
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const events = this.world.makeEvents(this.o.batch ?? 50);
      let status = await this.attempt(events);
      while (status !== 202 && Date.now() < this.giveUpAt) {
        await sleep(this.o.retryMs ?? 250);
        status = await this.attempt(events);
      }
      if (status !== 202) {
        this.abandoned++;
        return;
      }
      this.acknowledged += events.length;
      await sleep(this.o.paceMs ?? 25);
    }
  }

  private async attempt(events: ClientEvent[]): Promise<number> {
    const at = Date.now();
    let timer: NodeJS.Timeout | undefined;
    const hang = new Promise<'hang'>((r) => (timer = setTimeout(() => r('hang'), this.o.hangMs ?? 10_000)));
    let status = 0;
    let detail: string | undefined;
    try {
      // An abandoned request may still be answered 202 later; world.post then records it, which
      // is right: those events were acknowledged (and are resubmitted anyway).
      const r = await Promise.race([this.world.post(events), hang]);
      if (r === 'hang') detail = 'no answer';
      else status = r;
    } catch (err) {
      detail = String(err);
    } finally {
      clearTimeout(timer);
    }
    this.attempts.push({ at, ms: Date.now() - at, status, ...(detail ? { detail } : {}) });
    return status;
  }
}

/** Counts of attempts by status, e.g. `{ 202: 40, 503: 6 }`. */
export function byStatus(attempts: readonly Attempt[]): Record<number, number> {
  const out: Record<number, number> = {};
  for (const a of attempts) out[a.status] = (out[a.status] ?? 0) + 1;
  return out;
}
