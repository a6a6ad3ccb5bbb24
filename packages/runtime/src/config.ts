import { z } from 'zod';
import { baseConfigSchema, bool, durationMs, port } from '@tally/config';

/** Settings every long-running service process adds to the shared base. */
export const serviceConfigSchema = baseConfigSchema.extend({
  MANAGEMENT_HOST: z.string().default('127.0.0.1'),
  SHUTDOWN_TIMEOUT: durationMs().default('30s'),
  LOG_REDACT_PERSONAL_DATA: bool().default('false'),
  // A consumer that stops heartbeating (killed, frozen) loses its partitions after this long; shorter
  // means faster failover, longer tolerates GC pauses. The heartbeat runs at a tenth of it.
  KAFKA_SESSION_TIMEOUT: durationMs().default('30s'),
  // After this long with no request, batch or job run in progress, two full garbage collections give
  // back the heap V8 grew under load (idle-memory.ts); 0 keeps the peak until the next burst.
  IDLE_GC_AFTER: durationMs().default('3s'),
});

/** Each service has its own management port default, so all of them run side by side locally. */
export function withManagementPort(defaultPort: number) {
  return serviceConfigSchema.extend({ MANAGEMENT_PORT: port().default(defaultPort) });
}
