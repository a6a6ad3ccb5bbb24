import { setFlagsFromString } from 'node:v8';

/**
 * Asks V8 to keep the heap small: each service's first statement. By default V8 lets a busy
 * process's old generation grow to about four times what survives a full collection before it
 * collects (a counter draining a backlog: 36 → 158 MB, then 59 MB after the collection), and the
 * resident memory keeps that peak. With `--optimize-for-size` it grows by a small factor instead:
 * peak RSS of counter / event-logger / history 254 / 271 / 221 MB → 148 / 149 / 139 MB in the
 * consumers benchmark, with the smaller fetches of consumer-recovery.ts (#19), for a few more full
 * collections. Set at run time rather than on node's command line (NODE_OPTIONS refuses this flag),
 * so every way of starting a service (npm scripts, compose, Helm, the tests) gets it.
 */
export function preferSmallHeap(): void {
  setFlagsFromString('--optimize-for-size');
}
