/** Exponential backoff with full jitter (AWS architecture blog), capped. */
export function backoffMs(attempt: number, initialMs: number, maxMs: number, random = Math.random): number {
  const ceiling = Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 20));
  return Math.round(initialMs / 2 + random() * (ceiling - initialMs / 2));
}

/**
 * Sleeps `ms` in slices, calling `tick` between slices (a kafkajs heartbeat, so a consumer that is
 * waiting out a MySQL outage keeps its partitions), and stops early when `cancelled()` says so.
 */
export async function sleepWithTicks(ms: number, sliceMs: number, tick: () => Promise<void>, cancelled: () => boolean): Promise<void> {
  const end = Date.now() + ms;
  while (!cancelled()) {
    const left = end - Date.now();
    if (left <= 0) return;
    await new Promise((r) => setTimeout(r, Math.min(left, sliceMs)));
    await tick();
  }
}
