import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Logger } from './logger';

/**
 * Gives memory back once a process has had nothing to do for a while (#19).
 *
 * V8 grows the old generation while requests and chunks wait on Kafka, Redis and MySQL, and it only
 * shrinks it at a full collection, which an idle process never reaches: a consumer that drained a
 * backlog stays at its peak RSS (about 180 MB against ~60 MB live) until the next burst. Nor does it
 * shrink the young generation (two 16 MB semi-spaces, ~32 MB resident) unless a scavenge finds that
 * little was allocated since the collections of the last ~5 s. So, once per idle period:
 *  - `afterMs` after the last work ended, two full collections give the old generation back (the
 *    counter: 181 → 123 MB); they also start V8's allocation-rate window afresh;
 *  - `YOUNG_AFTER_MS` later, still idle, a scavenge shrinks the young generation (the window now holds
 *    only idle time) and a full collection unmaps what it gave up (the counter: → ~92 MB).
 * Nothing runs while work is open, and a process that stays idle is not collected again and again.
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
  /** The collector (tests pass a fake): V8's, 'full' = two full collections, 'young' = a scavenge + one. */
  gc?: (step: 'full' | 'young') => void;
  /** Each idle collection and how long it took, at debug level. */
  logger?: Logger;
}

type V8Gc = (options?: { type?: 'minor' | 'major' }) => void;
let exposed: V8Gc | undefined;
function v8Gc(): V8Gc {
  if (exposed) return exposed;
  const global = (globalThis as { gc?: V8Gc }).gc;
  if (global) return (exposed = global);
  setFlagsFromString('--expose-gc');
  exposed = runInNewContext('gc') as V8Gc;
  return exposed;
}

function v8Collector(): (step: 'full' | 'young') => void {
  const gc = v8Gc();
  return (step) => {
    if (step === 'full') {
      // Twice: the first one's freed pages are still being swept when it returns, and the second
      // gives them back (one left the counter at 141 MB RSS, two at 123–126).
      gc();
      gc();
    } else {
      // A scavenge keeps room for twice what survives it; after the full collections nearly nothing
      // is young, so the young generation goes down to its minimum, and the full collection frees it.
      gc({ type: 'minor' });
      gc();
    }
  };
}

/** After the full collections: V8's allocation-rate window (~5 s) must hold idle time only. */
export const YOUNG_AFTER_MS = 5_500;

export function releaseMemoryWhenIdle(o: IdleMemoryOptions): IdleMemory {
  const now = o.now ?? Date.now;
  let last = now();
  // Steps of this idle period done: none, the full collections (at `fullAt`), both.
  let done: 'none' | 'full' | 'both' = 'none';
  let fullAt = 0;
  let collections = 0;
  let active = 0;
  const gc = o.afterMs > 0 ? (o.gc ?? v8Collector()) : undefined;
  const step = (which: 'full' | 'young') => {
    const t0 = performance.now();
    gc!(which);
    o.logger?.debug({ step: which, ms: Math.round(performance.now() - t0) }, 'idle: heap collected');
  };
  const timer = gc
    ? setInterval(
        () => {
          if (done === 'both' || active > 0 || now() - last < o.afterMs) return;
          if (done === 'none') {
            step('full');
            done = 'full';
            fullAt = now();
            collections++;
          } else if (now() - fullAt >= YOUNG_AFTER_MS) {
            step('young');
            done = 'both';
          }
        },
        o.checkMs ?? Math.max(250, Math.min(1000, o.afterMs / 2)),
      )
    : undefined;
  timer?.unref();
  return {
    begin() {
      active++;
      last = now();
      done = 'none';
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
