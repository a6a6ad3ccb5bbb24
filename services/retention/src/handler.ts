import { RAW_EVENT_TABLES, type RawEventTable } from '@tally/db/tables';

// Pure decisions of the retention job: which table keeps what for how long, from which column the
// age is read, and how big the next DELETE batch may be. No I/O here (sink.ts deletes).

export const DAY_MS = 86_400_000;

/** One table's retention: rows whose `timeColumn` is older than `now − keepMs` are deleted. */
export interface RetentionRule {
  table: string;
  /** Server time the age is read from; an index starts with it (ORDER BY it reads only what it deletes). */
  timeColumn: string;
  /** The primary key: the tie-break after the time, so every batch deletes a deterministic set (safe for statement binlogs). */
  keyColumns: readonly string[];
  keepMs: number;
  /** Where the number comes from, for the logs and `--help`. */
  why: string;
  /** job_runs only: the latest successful run of each job stays, however old (pipeline-health and alerts read it). */
  keepLatestSuccessPerJob?: boolean;
}

/** What the topics keep (schemas/topics.json), read by config.ts from @tally/events. */
export interface TopicRetention {
  /** The longest retention of any event topic: how far back a replay can reach. */
  eventTopicsMs: number;
  deadLetterTopicMs: number;
}

/** The configurable retentions (config.ts parses them from RAW_LOG_RETENTION, RETENTION_<TABLE>, …). */
export interface RetentionSettings {
  rawLogs: Readonly<Record<RawEventTable, number>>;
  deadLettersMs: number;
  jobRunsMs: number;
  flushLedgerMs: number;
  /** Added to a topic's retention before what a replay could still need is pruned. */
  replayMarginMs: number;
}

/**
 * Ids that absorb a second delivery of one event must outlive every copy a replay can still read:
 * a record stays on its topic `retention` after its Kafka timestamp, and it was applied (applied_at)
 * after that timestamp, so `applied_at < now − (retention + margin)` can no longer be reached. The
 * margin covers clock differences between the broker and MySQL and a replay that is started late.
 */
export function replayFloorMs(topicRetentionMs: number, marginMs: number): number {
  return topicRetentionMs + marginMs;
}

/**
 * The shortest retention allowed per setting, with the reason. A raw log pruned inside the replay
 * window would take a replayed event again (INSERT IGNORE finds no row to collide with) and keep it
 * another full retention; a dead-letter copy pruned while the topic still holds it would look new
 * to a re-copy after a reset of the copier's position.
 */
export function retentionFloors(
  topics: TopicRetention,
  marginMs: number,
): { rawLogsMs: number; deadLettersMs: number; flushLedgerMs: number; jobRunsMs: number } {
  return {
    rawLogsMs: replayFloorMs(topics.eventTopicsMs, marginMs),
    deadLettersMs: replayFloorMs(topics.deadLetterTopicMs, marginMs),
    // A killed flush leaves a `flushing:` hash that the next flusher start looks up in the ledger
    // (minutes later); a day leaves room for a flusher that stayed down over a night.
    flushLedgerMs: DAY_MS,
    jobRunsMs: DAY_MS,
  };
}

const days = (ms: number) => `${+(ms / DAY_MS).toFixed(2)} d`;

/** Every table the job prunes, in the order it prunes them (largest first: raw logs). */
export function retentionRules(s: RetentionSettings, topics: TopicRetention): RetentionRule[] {
  const replay = replayFloorMs(topics.eventTopicsMs, s.replayMarginMs);
  const requeue = replayFloorMs(topics.deadLetterTopicMs, s.replayMarginMs);
  return [
    ...RAW_EVENT_TABLES.map((table) => ({
      table,
      timeColumn: 'received_at',
      keyColumns: ['id'],
      keepMs: s.rawLogs[table],
      why: `RAW_LOG_RETENTION or RETENTION_${table.toUpperCase()} (${days(s.rawLogs[table])})`,
    })),
    {
      table: 'history_applied_events',
      timeColumn: 'applied_at',
      keyColumns: ['event_id'],
      keepMs: replay,
      why: `event topics' retention ${days(topics.eventTopicsMs)} + RETENTION_REPLAY_MARGIN ${days(s.replayMarginMs)}: no replay reaches older ids`,
    },
    {
      table: 'dead_letter_requeues',
      timeColumn: 'requeued_at',
      keyColumns: ['dlq_topic', 'partition', 'offset'],
      keepMs: requeue,
      why: `dead-letter topic's retention ${days(topics.deadLetterTopicMs)} + margin: \`tally dlq requeue\` reads the topic, older records name messages gone from it`,
    },
    {
      table: 'dead_letters',
      timeColumn: 'failed_at',
      keyColumns: ['id'],
      keepMs: s.deadLettersMs,
      why: `RETENTION_DEAD_LETTERS (${days(s.deadLettersMs)})`,
    },
    {
      table: 'flush_ledger',
      timeColumn: 'applied_at',
      keyColumns: ['flush_id'],
      keepMs: s.flushLedgerMs,
      why: `RETENTION_FLUSH_LEDGER (${days(s.flushLedgerMs)})`,
    },
    {
      table: 'job_runs',
      timeColumn: 'started_at',
      keyColumns: ['id'],
      keepMs: s.jobRunsMs,
      why: `RETENTION_JOB_RUNS (${days(s.jobRunsMs)}), the latest success per job kept`,
      keepLatestSuccessPerJob: true,
    },
  ];
}

/** Rows strictly older than this are deleted; a row exactly at the cut-off stays. */
export function cutoffFor(rule: Pick<RetentionRule, 'keepMs'>, now: Date): Date {
  return new Date(now.getTime() - rule.keepMs);
}

export interface BatchBounds {
  /** RETENTION_BATCH_ROWS: the most rows one DELETE may take. */
  maxRows: number;
  /** RETENTION_MAX_LOCK: the longest one batch (its transaction, so its row locks) may last. */
  maxLockMs: number;
}

export const MIN_BATCH_ROWS = 10;

/**
 * The size of the next batch from how long the last one held its locks: halve above half the bound
 * (a slower disk or a busy buffer pool, so the next one stays well under it), double back towards
 * RETENTION_BATCH_ROWS below an eighth of it. `timedOut`: the server killed the statement at the
 * bound (MariaDB max_statement_time): a quarter, so the retry is far from it.
 */
export function nextBatchRows(current: number, lastMs: number, bounds: BatchBounds, timedOut = false): number {
  const clamp = (n: number) => Math.max(MIN_BATCH_ROWS, Math.min(bounds.maxRows, Math.floor(n)));
  if (timedOut) return clamp(current / 4);
  if (lastMs > bounds.maxLockMs / 2) return clamp(current / 2);
  if (lastMs < bounds.maxLockMs / 8) return clamp(current * 2);
  return clamp(current);
}

/** A batch that deleted fewer rows than it asked for found the end of what is past the cut-off. */
export function tableDone(deleted: number, asked: number): boolean {
  return deleted < asked;
}
