import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Logger } from './logger';

/**
 * Gives memory back once a process has had nothing to do for a while (#19).
 *
 * V8 grows the old generation while requests and chunks wait on Kafka, Redis and MySQL, and it only
 * shrinks it at a full collection, which an idle process never reaches: a consumer that drained a
 * backlog stays at its peak RSS (about 180 MB against ~60 MB live) until the next burst. Two full
 * collections once no work has been open for `afterMs` return most of it (the counter: 181 → 123 MB);
 * they run when there is no work to delay, and once per idle period (a process that stays idle is
 * not collected again and again).
 *
 * `gc` is V8's own (the `--expose-gc` function). Setting the flag at run time installs it only in
 * contexts created afterwards, so it is taken from a fresh one; Jest's leak detector does the same.
 */
export interface IdleMemory {
  /**
   * Work starts (a request, a batch, a job run): no collection until the returned `end` is called,
   * however long it takes; the idle period counts from the last end. Cheap: a clock read and a closure.
   */
  begin(): () => void;
  /** Stops the check (shutdown). */
  stop(): void;
  /** Idle periods collected so far. */
  readonly collections: number;
}

export interface IdleMemoryOptions {
  /** Quiet time before the collection; 0 turns the release off. */
  afterMs: number;
  /** How often idleness is checked. */
  checkMs?: number;
  now?: () => number;
  /** The collector (tests pass a fake). */
  gc?: () => void;
  /** Each idle collection and how long it took, at debug level. */
  logger?: Logger;
}

let exposed: (() => void) | undefined;
function v8Gc(): () => void {
  if (exposed) return exposed;
  const global = (globalThis as { gc?: () => void }).gc;
  if (global) return (exposed = global);
  setFlagsFromString('--expose-gc');
  exposed = runInNewContext('gc') as () => void;
  return exposed;
}

export function releaseMemoryWhenIdle(o: IdleMemoryOptions): IdleMemory {
  const now = o.now ?? Date.now;
  let last = now();
  let released = false;
  let collections = 0;
  let active = 0;
  const gc = o.afterMs > 0 ? (o.gc ?? v8Gc()) : undefined;
  const timer = gc
    ? setInterval(
        () => {
          if (released || active > 0 || now() - last < o.afterMs) return;
          released = true;
          const t0 = performance.now();
          // Twice: the first collection's freed pages are still being swept while it returns, and the
          // second one gives them back (one collection left the counter at 141 MB RSS, two at 123–126).
          gc();
          gc();
          collections++;
          o.logger?.debug({ ms: Math.round(performance.now() - t0) }, 'idle: heap collected');
        },
        o.checkMs ?? Math.max(250, Math.min(1000, o.afterMs / 2)),
      )
    : undefined;
  timer?.unref();
  return {
    begin() {
      active++;
      last = now();
      released = false;
      let ended = false;
      return () => {
        if (ended) return;
        ended = true;
        active--;
        last = now();
      };
    },
    stop() {
      clearInterval(timer);
    },
    get collections() {
      return collections;
    },
  };
}
