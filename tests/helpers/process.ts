import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { eventually, GiveUp } from './env';

/**
 * A real service process for crash and shutdown tests (PostHog's service-process pattern): spawn the
 * compiled entry, collect its output, signal it, wait for its exit code.
 */
export class ServiceProcess {
  readonly child: ChildProcess;
  output = '';
  private readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(entry: string, env: Record<string, string>, args: readonly string[] = []) {
    this.child = spawn(process.execPath, [resolve(__dirname, '../..', entry), ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.on('data', (d) => (this.output += d));
    this.child.stderr!.on('data', (d) => (this.output += d));
    this.exited = new Promise((r) => this.child.once('exit', (code, signal) => r({ code, signal })));
  }

  signal(sig: NodeJS.Signals): void {
    this.child.kill(sig);
  }

  async waitExit(timeoutMs = 30_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`process did not exit within ${timeoutMs} ms; output:\n${this.output}`)), timeoutMs);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * `eventually(check)` for this process: fails at once, with its exit code and output, if it exits
   * while we wait (a port already taken, a config error), and with its output's tail on a timeout.
   */
  async until<T>(check: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
    // Raced against the exit: a check can hang on a port the process never got (someone else's server).
    const exited = this.exited.then(({ code, signal }) => {
      throw new GiveUp(`${what}: the process exited (${code ?? signal}) first; output:\n${this.tail()}`);
    });
    exited.catch(() => undefined);
    return eventually(
      () => Promise.race([check(), exited]),
      timeoutMs,
      () => `${what}; output so far:\n${this.tail()}`,
    );
  }

  /** The last `chars` characters of the output (a failure message stays readable). */
  tail(chars = 4000): string {
    return this.output.length > chars ? `…${this.output.slice(-chars)}` : this.output;
  }

  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGKILL');
      await this.exited;
    }
  }
}

/** Whether a process with this pid exists (signal 0 checks without signalling). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const execFileP = promisify(execFile);

/**
 * Runs a compiled entry (the CLI, a service's `--once`) to its end. A failure names how it ended
 * (exit code or the signal of a timeout) with both streams: the services log to stdout, so an error
 * carrying only stderr would hide why.
 */
export async function runEntry(
  entry: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  timeoutMs = 120_000,
): Promise<{ stdout: string; stderr: string }> {
  try {
    return await execFileP(process.execPath, [resolve(__dirname, '../..', entry), ...args], {
      env,
      timeout: timeoutMs,
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (err) {
    const e = err as { code?: number | string; signal?: string; killed?: boolean; stdout?: string; stderr?: string };
    const how = e.killed ? `killed by ${e.signal} after the ${timeoutMs} ms timeout` : e.signal ? `ended by ${e.signal}` : `exit ${e.code}`;
    throw new Error(
      `${entry} ${args.slice(0, 4).join(' ')}… failed (${how})\n--- stderr\n${e.stderr ?? ''}\n--- stdout (last 4 KB)\n${(e.stdout ?? '').slice(-4096)}`,
    );
  }
}
