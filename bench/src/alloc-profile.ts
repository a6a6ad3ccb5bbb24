/**
 * Preload for a service a benchmark starts: a sampling profile of every allocation in a time window,
 * collected objects included, so it shows what a request or an event allocates (`--heap-prof` keeps
 * only what is still alive at the end, which says nothing about garbage).
 *
 *   BENCH_NODE_ARGS="-r ./bench/dist/alloc-profile.js" ALLOC_START_MS=7000 ALLOC_MS=8000 node bench/dist/ingest.js
 *
 * writes `$ALLOC_DIR/alloc-<pid>.heapprofile` (default /tmp), which Chrome DevTools' Memory tab opens.
 * ALLOC_START_MS counts from the process' start (the ingest benchmark's 1-event run starts ~6 s in).
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';

const startMs = Number(process.env.ALLOC_START_MS ?? 20_000);
const durationMs = Number(process.env.ALLOC_MS ?? 10_000);
const dir = process.env.ALLOC_DIR ?? '/tmp';
const session = new Session();
session.connect();

setTimeout(() => {
  session.post(
    'HeapProfiler.startSampling',
    { samplingInterval: 16_384, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true },
    (err) => {
      if (err) return process.stderr.write(`alloc-profile: ${err.message}\n`);
      setTimeout(() => {
        session.post('HeapProfiler.stopSampling', (e, r) => {
          if (e) return process.stderr.write(`alloc-profile: ${e.message}\n`);
          const file = join(dir, `alloc-${process.pid}.heapprofile`);
          writeFileSync(file, JSON.stringify(r.profile));
          process.stderr.write(`alloc-profile: ${file}\n`);
        });
      }, durationMs).unref();
    },
  );
}, startMs).unref();
