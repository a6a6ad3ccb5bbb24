import type { Consumer, EachBatchPayload } from 'kafkajs';
import { errorMessage, type Logger } from '@tally/runtime';
import { ChunkProcessor, Rewind, Stopped } from './chunk-processor';
import { isBrokerUnreachable, recoverConsumer, runnerConsumer } from './consumer-recovery';
import { PartitionResume } from './partition-resume';
import { RunnerAssignment } from './runner-assignment';
import { createRunnerMetrics, type RunnerMetrics } from './runner-metrics';
import type { ConsumerRunnerOptions } from './runner-types';

export type { BatchOutcome, ConsumerRunnerOptions, DecodedMessage, PartitionBatch, Validation } from './runner-types';
export { isBrokerUnreachable } from './consumer-recovery';

/**
 * The one consumer loop every Tally consumer uses. It owns offsets, heartbeats, retries, dead
 * letters and shutdown; services only turn decoded messages into effects and say how it went.
 *
 * A partition's batch is processed in order, chunk by chunk (ChunkProcessor: each chunk's
 * `last offset + 1` is committed only once its effects and dead letters are durable). This class
 * wires the kafkajs consumer: group membership, the sink's resume points, rewinds, lag and recovery
 * from a broker outage.
 */
export class ConsumerRunner<T> {
  private consumer: Consumer;
  private readonly m: RunnerMetrics;
  private readonly log: Logger;
  private readonly chunks: ChunkProcessor<T>;
  private readonly resume: PartitionResume;
  private readonly assignment: RunnerAssignment;
  private stopping = false;
  private joined = false;
  private joinedOnce = false;
  private lagTimer: NodeJS.Timeout | undefined;

  constructor(private readonly o: ConsumerRunnerOptions<T>) {
    this.log = o.logger.child({ component: 'consumer', group: o.groupId });
    this.m = createRunnerMetrics(o.metrics);
    const stopping = () => this.stopping;
    this.chunks = new ChunkProcessor(o, this.m, this.log, stopping);
    this.resume = new PartitionResume(o.resumeFrom, this.log, (t, p) => this.chunks.logFor(t, p), stopping);
    this.assignment = new RunnerAssignment(o.kafka, o.groupId, this.m, this.log);
    this.consumer = this.createConsumer();
  }

  private createConsumer(): Consumer {
    const o = this.o;
    const consumer = runnerConsumer(o.kafka, o);
    const { GROUP_JOIN, CRASH } = consumer.events;
    consumer.on(GROUP_JOIN, (e) => {
      // Every join after the first is a rebalance this member went through. kafkajs emits REBALANCING
      // only when a heartbeat hears of one; a member the coordinator expelled (its session expired)
      // rejoins silently, and that is the rebalance ops most need to see.
      if (this.joinedOnce) this.m.rebalances.inc();
      this.joinedOnce = true;
      this.joined = true;
      this.assignment.set(e.payload.memberAssignment);
      this.log.info({ assignment: e.payload.memberAssignment }, 'joined group');
      this.resume.assigned(e.payload.memberAssignment);
    });
    consumer.on(CRASH, (e) => {
      this.log.error({ err: errorMessage(e.payload.error), restart: e.payload.restart }, 'consumer crashed');
      // Not a member until kafkajs has restarted it and it joined again (a broker outage): not ready.
      this.joined = false;
      if (e.payload.restart || this.stopping) return;
      // kafkajs gives up for good on errors it deems non-retriable, and some of those are only a
      // broker that is still restarting (no broker available, connection refused). Those are
      // recovered here, in-process, with a new consumer; anything else is fatal (the supervisor
      // restarts the process).
      if (isBrokerUnreachable(e.payload.error)) void this.recover();
      else o.onFatal(e.payload.error);
    });
    return consumer;
  }

  private async runConsumer(): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: this.o.topics, fromBeginning: this.o.fromBeginning ?? true });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.o.partitionsConsumedConcurrently ?? 1,
      eachBatch: (payload) => this.onBatch(payload),
    });
  }

  /** A new kafkajs consumer in place of one that gave up, retried with backoff until it runs. */
  private recover(): Promise<void> {
    return recoverConsumer(
      async () => {
        await this.consumer.disconnect().catch(() => undefined);
        this.consumer = this.createConsumer();
        this.m.recoveries.inc();
        await this.runConsumer();
      },
      () => this.stopping,
      this.log,
    );
  }

  /** Readiness: connected and a member of the group (a member may have 0 partitions when over-scaled). */
  get isReady(): boolean {
    return this.joined && !this.stopping;
  }

  async start(): Promise<void> {
    if ((this.o.lagRefreshMs ?? 15_000) > 0) {
      this.lagTimer = setInterval(() => void this.assignment.refreshLag(this.joined && !this.stopping), this.o.lagRefreshMs ?? 15_000);
      this.lagTimer.unref();
    }
    await this.runConsumer();
  }

  /** Finishes the chunk in progress (and commits it), then leaves the group. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.lagTimer);
    await this.consumer.disconnect();
    await this.assignment.close();
  }

  private async onBatch(p: EachBatchPayload): Promise<void> {
    const { batch } = p;
    const size = this.o.maxChunk ?? 500;
    const done = this.o.onWork?.();
    try {
      const resume = await this.resume.sinkResumePoint(p);
      if (resume !== undefined) {
        this.chunks
          .logFor(batch.topic, batch.partition)
          .info({ from: batch.messages[0]?.offset, resume }, "resuming from the sink's own progress");
        this.consumer.seek({ topic: batch.topic, partition: batch.partition, offset: resume });
        return;
      }
      for (let i = 0; i < batch.messages.length; i += size) {
        if (!p.isRunning() || p.isStale() || this.stopping) return;
        await this.chunks.process(p, batch.messages.slice(i, i + size));
      }
    } catch (err) {
      if (err instanceof Stopped) return; // shutting down or partition lost: the unfinished chunk is not committed
      if (err instanceof Rewind) {
        this.chunks.logFor(batch.topic, batch.partition).warn({ offset: err.offset }, 'sink asked to re-read from an earlier offset');
        this.consumer.seek({ topic: batch.topic, partition: batch.partition, offset: err.offset });
        if (err.everyPartition) await this.resume.rewindOthers(this.consumer, this.assignment.partitions, batch.topic, batch.partition);
        return;
      }
      throw err;
    } finally {
      done?.();
    }
  }
}
