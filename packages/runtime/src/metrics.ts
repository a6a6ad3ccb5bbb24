import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Every Tally measure is `tally_<thing>_<unit>`, whatever service exports it (docs/operations.md). */
export const METRIC_PREFIX = 'tally_';

/**
 * prom-client's gauges that end in `_total` (sums of the per-type `nodejs_active_*` gauges it also
 * exports): `promtool check metrics` flags a `_total` suffix on anything but a counter, and the
 * per-type gauges carry the same figure (`sum(nodejs_active_handles)`).
 */
const NOT_PROMLINT_CLEAN = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

/**
 * One registry per service process. A measure has one name across services (`tally_consumer_lag_messages`
 * from event-logger, counter and history alike), and the service is the `service` label on every series,
 * so one query covers all of them. Node.js and process metrics keep their standard names
 * (`process_cpu_seconds_total`, `nodejs_heap_size_used_bytes`, …) for stock dashboards.
 */
export class ServiceMetrics {
  readonly registry = new Registry();
  readonly prefix = METRIC_PREFIX;

  constructor(
    readonly service: string,
    opts: { defaultMetrics?: boolean } = {},
  ) {
    this.registry.setDefaultLabels({ service });
    if (opts.defaultMetrics !== false) {
      collectDefaultMetrics({ register: this.registry });
      for (const name of NOT_PROMLINT_CLEAN) this.registry.removeSingleMetric(name);
    }
  }

  counter<L extends string>(name: string, help: string, labelNames: readonly L[] = []): Counter<L> {
    return this.existing(name) ?? new Counter({ name: this.prefix + name, help, labelNames, registers: [this.registry] });
  }

  gauge<L extends string>(name: string, help: string, labelNames: readonly L[] = []): Gauge<L> {
    return this.existing(name) ?? new Gauge({ name: this.prefix + name, help, labelNames, registers: [this.registry] });
  }

  histogram<L extends string>(name: string, help: string, labelNames: readonly L[] = [], buckets?: number[]): Histogram<L> {
    return (
      this.existing(name) ??
      new Histogram({ name: this.prefix + name, help, labelNames, registers: [this.registry], ...(buckets ? { buckets } : {}) })
    );
  }

  // Two parts of a service may ask for the same metric (e.g. two runners): share it.
  private existing<T>(name: string): T | undefined {
    return this.registry.getSingleMetric(this.prefix + name) as T | undefined;
  }
}
