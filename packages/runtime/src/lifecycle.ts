import type { Logger } from 'pino';
import { errorMessage, TallyError } from './errors';

type Step = { name: string; run: () => Promise<unknown> | unknown };

/**
 * Ordered shutdown, as PostHog's base server does it: stop taking work → drain → flush producers →
 * close clients → exit. Steps registered later run first (like `defer`): a service registers its
 * clients, then the consumer that uses them, so the consumer stops before the clients close.
 */
export class Lifecycle {
  private readonly steps: Step[] = [];
  private stopping: Promise<void> | undefined;

  constructor(
    private readonly logger: Logger,
    private readonly opts: { shutdownTimeoutMs: number; exit?: (code: number) => void },
  ) {}

  onShutdown(name: string, run: Step['run']): void {
    this.steps.push({ name, run });
  }

  get isStopping(): boolean {
    return this.stopping !== undefined;
  }

  /** SIGTERM/SIGINT drain and exit 0; an uncaught error exits 1 so a supervisor restarts the process. */
  installProcessHandlers(): void {
    const onSignal = (signal: NodeJS.Signals) => {
      this.logger.info({ signal }, 'signal received, shutting down');
      void this.shutdown(0);
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
    process.on('uncaughtException', (err) => this.fatal(err, 'uncaught exception'));
    process.on('unhandledRejection', (err) => this.fatal(err, 'unhandled rejection'));
  }

  /**
   * Logs the error and exits 1. The message also goes to stderr as plain text: the JSON line folds a
   * multi-line message (a schema report, a config problem per line) into one escaped string, and the
   * operator reading a crash loop wants the words, not the JSON.
   */
  fatal(err: unknown, what = 'fatal error'): void {
    this.logger.fatal({ err }, what);
    const service = (this.logger.bindings() as { service?: string }).service;
    process.stderr.write(
      `${service ? `${service}: ` : ''}${what}: ${err instanceof TallyError ? `${err.code}: ` : ''}${errorMessage(err)}\n`,
    );
    void this.shutdown(err instanceof TallyError ? err.exitCode : 1);
  }

  shutdown(code: number): Promise<void> {
    if (this.stopping) return this.stopping;
    const exit = this.opts.exit ?? ((c: number) => process.exit(c));
    const deadline = setTimeout(() => {
      this.logger.error({ timeoutMs: this.opts.shutdownTimeoutMs }, 'shutdown deadline passed, exiting');
      exit(code === 0 ? 1 : code);
    }, this.opts.shutdownTimeoutMs);
    deadline.unref();
    this.stopping = (async () => {
      let failed = false;
      for (const step of [...this.steps].reverse()) {
        const t0 = Date.now();
        try {
          await step.run();
          this.logger.info({ step: step.name, ms: Date.now() - t0 }, 'shutdown step done');
        } catch (err) {
          failed = true;
          this.logger.error({ step: step.name, err: errorMessage(err) }, 'shutdown step failed');
        }
      }
      clearTimeout(deadline);
      this.logger.info({ code: failed && code === 0 ? 1 : code }, 'exiting');
      // pino writes synchronously to stdout by default, so nothing logged above is lost on exit.
      exit(failed && code === 0 ? 1 : code);
    })();
    return this.stopping;
  }
}
