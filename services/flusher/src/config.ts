import { z } from 'zod';
import { loadConfig, mysqlPoolSize } from '@tally/config';
import { jobConfigSchema } from '@tally/jobs';

/** Steps at which FLUSHER_FAILPOINT makes the process SIGKILL itself (see flush.ts). */
export const FAILPOINTS = ['after_take', 'after_commit', 'before_cleanup', 'before_realign'] as const;
export type Failpoint = (typeof FAILPOINTS)[number];

export const flusherConfigSchema = jobConfigSchema({ managementPort: 9104, schedule: '*/5 * * * *' }).extend({
  // Movies per temp-table INSERT + UPDATE … JOIN statement pair. 5,000: 100k rows in ~2.0 s, vs
  // ~2.2 s at 1,000 and 10.9 s for `CASE id WHEN …` (MariaDB evaluates CASE linearly per row).
  // The chunk also bounds the MEMORY temp table (~0.4 MB), far below max_heap_table_size.
  MYSQL_POOL_SIZE: mysqlPoolSize().default(4),
  MYSQL_CHUNK_ROWS: z.coerce.number().int().min(1).max(50_000).default(5_000),
  // Re-seeded display keys re-aligned per Lua script: the script blocks Redis while it runs, 3,000 SETs ≈ 2 ms.
  REALIGN_CHUNK_KEYS: z.coerce.number().int().min(1).max(20_000).default(3_000),
  // Fields per HSCAN page of a taken hash: bounded replies instead of one HGETALL blocking Redis for
  // the whole hash (~60 ms at 300k fields) while the counter and the web app wait.
  READ_PAGE_FIELDS: z.coerce.number().int().min(10).max(100_000).default(10_000),
  // TEST ONLY — never set in production. The process SIGKILLs itself at this step of a flush, so the
  // crash tests can prove that a restart neither loses nor double-applies an increment.
  FLUSHER_FAILPOINT: z.enum(FAILPOINTS).optional(),
});
export type FlusherConfig = z.infer<typeof flusherConfigSchema>;

export function loadFlusherConfig(env?: Record<string, string | undefined>): Readonly<FlusherConfig> {
  return loadConfig(flusherConfigSchema, env);
}
