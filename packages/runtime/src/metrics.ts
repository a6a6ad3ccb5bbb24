import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * One registry per service process, named `tally_<service>_…` as Prometheus conventions ask, with
 * the process metrics (memory, CPU, event-loop lag) that ops alert on.
 */
export class ServiceMetrics {
  readonly registry = new Registry();
  readonly prefix: string;

  constructor(service: string, opts: { defaultMetrics?: boolean } = {}) {
    this.prefix = `tally_${service.replace(/[^a-zA-Z0-9]/g, '_')}_`;
    if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: this.prefix });
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
