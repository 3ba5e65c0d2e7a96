import type { Logger } from '../../util/logger.js';
import type { GenerateRequest, ImageProvider, ProviderCapabilities, ProviderResult, Readiness } from '../types.js';
import { OneAtATime } from './one-at-a-time.js';
import { RemoteHealth } from './remote-health.js';
import { DEFAULT_RETRY, withRetries, type Resend, type RetryPolicy } from './retry.js';

export interface RemoteProviderSettings {
  /** The provider's id (also its name in log lines). */
  readonly id: string;
  readonly logger: Logger;
  /** How often readiness is re-checked; 0: only at start and on refresh(). */
  readonly healthIntervalMs: number;
  /** Back-off for retried requests; {@link DEFAULT_RETRY} when unset. */
  readonly retry?: Omit<RetryPolicy, 'signal' | 'onRetry'> | undefined;
  /** For a server that cannot take two jobs at once: generations wait their turn here. */
  readonly oneAtATime?: boolean;
}

/**
 * What every provider for a generator on another machine shares: readiness cached by
 * {@link RemoteHealth} (probed at start, on a timer and on the scan cron), retries that log
 * one line per failed attempt, and, for servers that cannot take two jobs, one at a time.
 * A subclass supplies the probe and the generation; it may extend readiness(), start(),
 * refresh() and close(), calling super.
 */
export abstract class RemoteProvider implements ImageProvider {
  readonly id: string;
  abstract readonly displayName: string;
  abstract readonly capabilities: ProviderCapabilities;
  protected readonly health: RemoteHealth;
  /** The back-off, without the signal and the log line (for requests that are not logged). */
  protected readonly retry: Omit<RetryPolicy, 'signal' | 'onRetry'>;
  private readonly logger: Logger;
  private readonly turns: OneAtATime | undefined;

  constructor(settings: RemoteProviderSettings) {
    this.id = settings.id;
    this.logger = settings.logger;
    this.retry = settings.retry ?? DEFAULT_RETRY;
    this.turns = settings.oneAtATime === true ? new OneAtATime() : undefined;
    this.health = new RemoteHealth({
      name: settings.id,
      logger: settings.logger,
      intervalMs: settings.healthIntervalMs,
      probe: (signal) => this.probe(signal),
    });
  }

  /** A cheap request that succeeds when the server can take work; rejects with the reason otherwise. */
  protected abstract probe(signal: AbortSignal): Promise<void>;

  /** Makes one picture (in its turn, when generations go one at a time). */
  protected abstract generateNow(request: GenerateRequest): Promise<ProviderResult>;

  readiness(): Readiness {
    return this.health.readiness();
  }

  start(): Promise<void> {
    return this.health.start();
  }

  refresh(): Promise<void> {
    return this.health.refresh();
  }

  async close(): Promise<void> {
    this.health.close();
  }

  generate(request: GenerateRequest): Promise<ProviderResult> {
    return this.turns === undefined ? this.generateNow(request) : this.turns.run(request.signal, () => this.generateNow(request));
  }

  /**
   * Runs `attempt` under this provider's back-off, logging each failed try. `resend` says
   * whether the request may go again after a connection that may have reached the server:
   * 'always' for reads, the API's check (or 'if-not-sent') for a request that starts a job.
   */
  protected retrying<T>(signal: AbortSignal, resend: Resend<T>, attempt: () => Promise<T>): Promise<T> {
    return withRetries(
      attempt,
      {
        ...this.retry,
        signal,
        onRetry: (error, attemptNumber, delayMs) =>
          this.logger.warn(`provider ${this.id}: attempt ${attemptNumber} failed; trying again`, { reason: error.message, delayMs }),
      },
      resend,
    );
  }
}
