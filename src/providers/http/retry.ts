import { ProviderError } from '../types.js';
import { sleep } from './abortable-sleep.js';
import { RemoteError } from './remote-error.js';

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  readonly attempts: number;
  /** The first back-off; each later one doubles, up to `maxDelayMs`. */
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly signal?: AbortSignal;
  /** Called before each wait, for a log line. */
  readonly onRetry?: (error: Error, attempt: number, delayMs: number) => void;
  /** Random source in [0, 1), for tests; Math.random by default. */
  readonly random?: () => number;
}

/** A policy suited to a local generator on the home network: a few quick retries. */
export const DEFAULT_RETRY: Omit<RetryPolicy, 'signal' | 'onRetry'> = { attempts: 3, baseDelayMs: 1000, maxDelayMs: 15_000 };

/**
 * Runs `attempt` until it succeeds, fails with an error that retrying cannot fix, or the
 * attempts run out. Only {@link ProviderError}s that say they are retryable are retried
 * (a dropped connection, a timeout, 429, 5xx): a refused prompt or a bad key fails at once.
 * Waits use "full jitter" (a random delay up to the exponential bound) so many frames'
 * retries do not arrive together; a server's Retry-After is honoured when it is longer.
 */
export async function withRetries<T>(attempt: (attemptNumber: number) => Promise<T>, policy: RetryPolicy): Promise<T> {
  const random = policy.random ?? Math.random;
  for (let attemptNumber = 1; ; attemptNumber += 1) {
    try {
      return await attempt(attemptNumber);
    } catch (error) {
      if (policy.signal?.aborted) throw policy.signal.reason;
      const retryable = error instanceof ProviderError && error.retryable;
      if (!retryable || attemptNumber >= policy.attempts) throw error;
      const bound = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attemptNumber - 1));
      const jittered = Math.round(random() * bound);
      const retryAfter = error instanceof RemoteError ? (error.retryAfterMs ?? 0) : 0;
      const delayMs = Math.min(Math.max(jittered, retryAfter), Math.max(policy.maxDelayMs, retryAfter));
      policy.onRetry?.(error, attemptNumber, delayMs);
      await sleep(delayMs, policy.signal);
    }
  }
}
