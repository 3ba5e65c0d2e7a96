import type { Logger } from '../../util/logger.js';
import type { Readiness } from '../types.js';

export interface RemoteHealthOptions {
  /** The provider's id, for log lines. */
  readonly name: string;
  /** A cheap request that succeeds when the remote server can take work; rejects otherwise. */
  readonly probe: (signal: AbortSignal) => Promise<void>;
  readonly logger: Logger;
  /** How often to re-check (default 60 s). 0 disables the timer (refresh() still checks). */
  readonly intervalMs?: number;
  /** Time allowed for one probe (default 10 s). */
  readonly probeTimeoutMs?: number;
}

/**
 * Whether a remote generator is up, as last seen. `readiness()` must be synchronous and
 * cheap (the frame's start calls it), so the answer is cached and refreshed in the
 * background: at start, on a timer, on the scan cron, and at once when a generation finds
 * the server gone. The log gets one line per change, not one per probe.
 */
export class RemoteHealth {
  private state: Readiness = { ready: false, reason: 'not checked yet' };
  private timer: NodeJS.Timeout | undefined;
  private checking: Promise<void> | undefined;
  private again: Promise<void> | undefined;
  private readonly controller = new AbortController();

  constructor(private readonly options: RemoteHealthOptions) {}

  readiness(): Readiness {
    return this.state;
  }

  /** The first check, then the periodic ones. */
  async start(): Promise<void> {
    await this.refresh();
    const intervalMs = this.options.intervalMs ?? 60_000;
    if (intervalMs > 0) {
      this.timer = setInterval(() => void this.refresh(), intervalMs);
      this.timer.unref();
    }
  }

  /**
   * Checks now. A call made while a probe is already out waits for it and then for one more,
   * shared by every such caller: a probe sent before the server came back must not be the
   * answer to a caller who asks after.
   */
  refresh(): Promise<void> {
    if (this.checking === undefined) {
      this.checking = this.check().finally(() => {
        this.checking = undefined;
      });
      return this.checking;
    }
    this.again ??= this.checking.then(() => {
      this.again = undefined;
      return this.refresh();
    });
    return this.again;
  }

  /** A generation found the server unusable: not ready until the next successful probe. */
  markDown(reason: string): void {
    this.set({ ready: false, reason });
  }

  markUp(): void {
    this.set({ ready: true });
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.controller.abort(new Error('closed'));
  }

  private async check(): Promise<void> {
    const signal = AbortSignal.any([this.controller.signal, AbortSignal.timeout(this.options.probeTimeoutMs ?? 10_000)]);
    try {
      await this.options.probe(signal);
      this.set({ ready: true });
    } catch (error) {
      if (this.controller.signal.aborted) return;
      this.set({ ready: false, reason: (error as Error).message });
    }
  }

  private set(next: Readiness): void {
    const before = this.state;
    this.state = next;
    const changed = before.ready !== next.ready || (!before.ready && !next.ready && before.reason !== next.reason);
    if (!changed) return;
    if (next.ready) this.options.logger.info(`provider ${this.options.name}: the server answers; ready`);
    else this.options.logger.warn(`provider ${this.options.name}: not ready: ${next.reason}`);
  }
}
