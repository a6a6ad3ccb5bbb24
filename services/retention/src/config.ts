import { z } from 'zod';
import { durationMs, loadConfig, mysqlPoolSize } from '@tally/config';
import { RAW_EVENT_TABLES, type RawEventTable } from '@tally/db/tables';
import { deadLetterTopic, eventDefinitions } from '@tally/events';
import { jobConfigSchema } from '@tally/jobs';
import { retentionFloors, type RetentionSettings, type TopicRetention } from './handler';

/** What the topics keep, from schemas/topics.json (the retention `tally topics create` gives them). */
export function topicRetention(): TopicRetention {
  return {
    eventTopicsMs: Math.max(...eventDefinitions().map((d) => d.retention_ms)),
    deadLetterTopicMs: deadLetterTopic().retention_ms,
  };
}

/** `RETENTION_VIEW_EVENTS`, …: one optional override per raw log. */
export const rawLogVariable = (table: RawEventTable) => `RETENTION_${table.toUpperCase()}`;

const overrides = Object.fromEntries(RAW_EVENT_TABLES.map((t) => [rawLogVariable(t), durationMs().optional()])) as Record<
  string,
  z.ZodOptional<ReturnType<typeof durationMs>>
>;

const base = jobConfigSchema({ managementPort: 9107, schedule: '23 * * * *' }).extend({
  // Raw logs: the dashboards read at most 30 days back (top lists, daily trends), so 90 days leaves
  // two months to investigate or rebuild a figure from the rows before they go.
  RAW_LOG_RETENTION: durationMs().default('90d'),
  MYSQL_POOL_SIZE: mysqlPoolSize().default(3),
  ...overrides,
  // The MySQL copies behind the dashboard's dead letters per reason and `tally dlq list`; the topic
  // itself keeps them 30 days.
  RETENTION_DEAD_LETTERS: durationMs().default('90d'),
  // Run history for the admin UI and for post-mortems; alerts need only the latest success, kept anyway.
  RETENTION_JOB_RUNS: durationMs().default('30d'),
  // One row per flush (every 5 min, ~8,600 a month); needed only until a killed flush is recovered.
  RETENTION_FLUSH_LEDGER: durationMs().default('30d'),
  // Added to a topic's retention before the ids that absorb a re-delivery are pruned (handler.ts).
  RETENTION_REPLAY_MARGIN: durationMs().default('1d'),
  // Rows per DELETE. 1,000 rows of a raw log: p99 16–35 ms over six simulated months, p50 45–85 ms with a
  // writer inserting into the same table on a loaded 2-core box (tests/retention), far under the lock
  // bound; a batch that gets slow is halved (nextBatchRows).
  RETENTION_BATCH_ROWS: z.coerce.number().int().min(10).max(50_000).default(1_000),
  // The longest one batch may hold its row locks. On MariaDB the server kills a DELETE at this bound
  // (max_statement_time; the batch rolls back, the next one is a quarter of the size); on MySQL the
  // batch size adapts to stay under half of it. Also the pruner's lock wait timeout, so it never
  // queues behind a writer for longer.
  RETENTION_MAX_LOCK: durationMs().default('1s'),
  // Pause between batches: replication and InnoDB's purge catch up, and writers get the rows' pages.
  RETENTION_BATCH_PAUSE: durationMs().default('100ms'),
});

type Parsed = z.infer<typeof base>;

/** The floors of handler.ts, checked at start so a retention that would break a guarantee never runs. */
function refineFloors(c: Parsed, ctx: z.RefinementCtx): void {
  const floors = retentionFloors(topicRetention(), c.RETENTION_REPLAY_MARGIN);
  const tooShort = (variable: string, value: number, floor: number, reason: string) => {
    if (value < floor)
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: [variable], message: `must be at least ${floor / 86_400_000} d (${reason})` });
  };
  const replay = "the event topics' retention + RETENTION_REPLAY_MARGIN: a replay would log pruned events again";
  tooShort('RAW_LOG_RETENTION', c.RAW_LOG_RETENTION, floors.rawLogsMs, replay);
  for (const t of RAW_EVENT_TABLES) {
    const v = (c as Record<string, unknown>)[rawLogVariable(t)];
    if (typeof v === 'number') tooShort(rawLogVariable(t), v, floors.rawLogsMs, replay);
  }
  tooShort(
    'RETENTION_DEAD_LETTERS',
    c.RETENTION_DEAD_LETTERS,
    floors.deadLettersMs,
    "the dead-letter topic's retention + RETENTION_REPLAY_MARGIN",
  );
  tooShort(
    'RETENTION_FLUSH_LEDGER',
    c.RETENTION_FLUSH_LEDGER,
    floors.flushLedgerMs,
    'a killed flush is looked up in the ledger at the next flusher start',
  );
  tooShort('RETENTION_JOB_RUNS', c.RETENTION_JOB_RUNS, floors.jobRunsMs, 'a day of runs to look back on');
  if (c.RETENTION_MAX_LOCK < 10)
    ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['RETENTION_MAX_LOCK'], message: 'must be at least 10ms' });
}

export const retentionConfigSchema = base.superRefine(refineFloors);
export type RetentionConfig = Parsed;

export function loadRetentionConfig(env?: Record<string, string | undefined>): Readonly<RetentionConfig> {
  return loadConfig(retentionConfigSchema, env);
}

/** The settings handler.ts decides from. */
export function retentionSettings(c: Readonly<RetentionConfig>): RetentionSettings {
  const raw = c as Readonly<Record<string, unknown>>;
  const rawLogs = Object.fromEntries(
    RAW_EVENT_TABLES.map((t) => [t, typeof raw[rawLogVariable(t)] === 'number' ? (raw[rawLogVariable(t)] as number) : c.RAW_LOG_RETENTION]),
  ) as Record<RawEventTable, number>;
  return {
    rawLogs,
    deadLettersMs: c.RETENTION_DEAD_LETTERS,
    jobRunsMs: c.RETENTION_JOB_RUNS,
    flushLedgerMs: c.RETENTION_FLUSH_LEDGER,
    replayMarginMs: c.RETENTION_REPLAY_MARGIN,
  };
}
