import { randomUUID } from 'node:crypto';
import type { JobContext, JobResult } from '@tally/jobs';
import type { Logger, ServiceMetrics } from '@tally/runtime';

type Counter = ReturnType<ServiceMetrics['counter']>;
import type { Failpoint } from './config';
import { parseFlushHash } from './handler';
import type { FlushSink } from './sink';

/** The sink's surface the flush uses (a fake in unit tests). */
export type FlushStore = Pick<
  FlushSink,
  'leftovers' | 'take' | 'read' | 'isApplied' | 'apply' | 'cleanup' | 'takeRealignSet' | 'realign' | 'dropRealignSet'
>;

interface Tally {
  fields: number;
  javRows: number;
  unknownFields: number;
}

/**
 * One flush run (the JobRunner holds the MySQL job lock around it):
 *   1. finish what a killed run left: a taken hash already in the ledger is only re-aligned and
 *      deleted, one not in it is applied — before anything new is taken, so the offsets MySQL
 *      records never claim deltas that are still only in Redis;
 *   2. take the pending hash (atomic RENAME to a key named by a new flush id);
 *   3. apply it in one MySQL transaction with its ledger row and covered offsets;
 *   4. delete the taken hash (and move the flush generation);
 *   5. re-align the noted display keys to MySQL + what is pending now: those seeded while a flush may
 *      have been in progress (the counter or the query API noted them, noteReseedLua) and those of
 *      movies MySQL lacks (step 3 noted them). Last, so no flush is
 *      between take and clean-up: display = MySQL + pending is then the invariant itself. Only these
 *      keys: every other display key moved with its deltas and is exact (a run re-aligned each
 *      flushed key before, 0.4–0.7 s of a 100k-key flush, #19).
 * A kill between any two steps is resolved by the next run: steps 1 and 5 of it.
 */
export class Flusher {
  private readonly recovered: Counter;
  private readonly unknown: Counter;
  private readonly malformed: Counter;
  private readonly flushed: Counter;

  constructor(
    private readonly store: FlushStore,
    metrics: ServiceMetrics,
    // Test-only crash hook, inert by default: main.ts wires it to FLUSHER_FAILPOINT (config.ts: never
    // set in production) so the crash tests can kill the process between the steps of a flush.
    private readonly failpoint: (at: Failpoint) => void = () => undefined,
  ) {
    this.recovered = metrics.counter(
      'recovered_flushes_total',
      'Flushes left by a killed run: applied now, or already in the ledger and only cleaned up',
      ['outcome'],
    );
    this.unknown = metrics.counter('unknown_movie_fields_total', 'Counter fields dropped because MySQL has no such movie (never invented)');
    this.malformed = metrics.counter(
      'malformed_fields_total',
      'Fields of a taken hash that are neither a counter nor an offset (logged, skipped)',
    );
    this.flushed = metrics.counter('flushed_fields_total', 'Counter fields moved from Redis to MySQL');
  }

  async run(ctx: Pick<JobContext, 'logger'>): Promise<JobResult> {
    const tally: Tally = { fields: 0, javRows: 0, unknownFields: 0 };
    const leftovers = await this.store.leftovers();
    for (const flushId of leftovers) await this.finishLeftover(flushId, tally, ctx.logger);
    const flushId = randomUUID();
    const taken = await this.store.take(flushId);
    if (taken) {
      this.failpoint('after_take');
      await this.flushTaken(flushId, tally, ctx.logger);
    }
    const realigned = await this.realignNoted(ctx.logger);
    return {
      items: tally.fields,
      summary: { taken, leftovers: leftovers.length, javRows: tally.javRows, unknownFields: tally.unknownFields, realigned },
    };
  }

  /** Step 5: the noted display keys (and those a killed run had taken) to MySQL + pending. */
  private async realignNoted(logger: Logger): Promise<number> {
    const t0 = performance.now();
    const fields = await this.store.takeRealignSet();
    if (fields.length === 0) return 0;
    this.failpoint('before_realign');
    await this.store.realign(fields);
    await this.store.dropRealignSet();
    logger.info({ keys: fields.length, ms: Math.round(performance.now() - t0) }, 're-aligned the noted display keys');
    return fields.length;
  }

  private async finishLeftover(flushId: string, tally: Tally, logger: Logger): Promise<void> {
    if (await this.store.isApplied(flushId)) {
      await this.store.cleanup(flushId);
      this.recovered.inc({ outcome: 'cleaned' });
      logger.warn({ flushId }, 'leftover flush was already in MySQL: cleaned up');
      return;
    }
    this.recovered.inc({ outcome: 'applied' });
    logger.warn({ flushId }, 'leftover flush not in MySQL: applying it');
    await this.flushTaken(flushId, tally, logger);
  }

  private async flushTaken(flushId: string, tally: Tally, logger: Logger): Promise<void> {
    const t0 = performance.now();
    const hash = await this.store.read(flushId);
    if (!hash) {
      // Registered but gone: Redis lost its data (the counter then replays from MySQL's offsets).
      await this.store.cleanup(flushId);
      return;
    }
    const tRead = performance.now();
    const flush = parseFlushHash(hash);
    if (flush.malformed.length > 0) {
      this.malformed.inc(flush.malformed.length);
      logger.error(
        { flushId, count: flush.malformed.length, sample: flush.malformed.slice(0, 10) },
        'malformed fields in the pending hash: skipped',
      );
    }
    const t1 = performance.now();
    const report = await this.store.apply(flushId, flush);
    const t2 = performance.now();
    if (report.alreadyApplied) {
      logger.warn({ flushId }, 'flush was applied meanwhile by another run: not applied again');
    } else {
      this.failpoint('after_commit');
      const unknown = new Set(report.unknownIds);
      const unknownFields = unknown.size === 0 ? 0 : flush.fields.filter((f) => unknown.has(f.id)).length;
      if (unknownFields > 0) {
        this.unknown.inc(unknownFields);
        logger.warn(
          { flushId, movies: unknown.size, fields: unknownFields, sample: report.unknownIds.slice(0, 20) },
          'deltas for movies MySQL does not have: dropped',
        );
      }
      this.flushed.inc(flush.fields.length);
      tally.fields += flush.fields.length;
      tally.javRows += report.javRows;
      tally.unknownFields += unknownFields;
    }
    const t3 = performance.now();
    this.failpoint('before_cleanup');
    await this.store.cleanup(flushId);
    // Per-step milliseconds: what to look at first when a flush gets slow.
    const ms = {
      read: Math.round(tRead - t0),
      parse: Math.round(t1 - tRead),
      mysql: Math.round(t2 - t1),
      cleanup: Math.round(performance.now() - t3),
    };
    logger.info({ flushId, fields: flush.fields.length, javRows: report.javRows, offsets: flush.offsets.length, ms }, 'flush done');
  }
}
