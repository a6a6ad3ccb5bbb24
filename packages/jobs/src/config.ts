import { z } from 'zod';
import { validate } from 'node-cron';
import { bool } from '@tally/config';
import { withManagementPort } from '@tally/runtime';

/** A node-cron expression (5 fields, or 6 with seconds first). */
export const cronExpression = () =>
  z.string().refine((s) => validate(s), { message: 'must be a cron expression, e.g. "*/5 * * * *" (every 5 minutes)' });

/**
 * What every scheduled service adds to the shared service settings: its schedule and whether to run
 * once right after starting (so a fresh deployment, or the quick start, does not wait for the
 * first tick; runs are idempotent, so an extra one is harmless).
 */
export function jobConfigSchema(defaults: { managementPort: number; schedule: string }) {
  return withManagementPort(defaults.managementPort).extend({
    SCHEDULE: cronExpression().default(defaults.schedule),
    RUN_ON_START: bool().default('true'),
  });
}
