import { ProviderError } from '../types.js';
import { sleep } from './abortable-sleep.js';
import { deliveryOf, notSentAgain } from './delivery.js';
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
 * May a request be sent again after a failure that retrying can fix? The rule that keeps a
 * generator from making one picture twice: a request that starts a job is sent again after a
 * connection that may have reached the server (see `deliveryOf`) only when the server's own
 * API says it has no trace of it. Failures before the connection, timeouts (made final by
 * `timeoutIsFinal`) and error answers (5xx, 429) are not affected.
 */
export type Resend<T> =
  /** Starts nothing (a poll, a download): every retryable failure is tried again. */
  | 'always'
  /** Starts a job the API cannot be asked about: sent again only when it surely never arrived. */
  | 'if-not-sent'
  /** Starts a job the API can be asked about: when it may have arrived, `ask` finds out first. */
  | { readonly ask: (error: RemoteError) => Promise<AfterDrop<T>> };

/** What the generator's API says about a request whose connection dropped. */
export type AfterDrop<T> =
  /** No trace of it: sending it again cannot make a second job. */
  | { readonly kind: 'absent' }
  /** The server took it: `value` is what the lost answer would have said (a job id), to go on with. */
  | { readonly kind: 'found'; readonly value: T }
  /** The server took it and its result cannot be had, or it cannot tell: not sent again. */
  | { readonly kind: 'final'; readonly reason: string };

/**
 * Runs `attempt` until it succeeds, fails with an error that retrying cannot fix, or the
 * attempts run out. Only {@link ProviderError}s that say they are retryable are retried
 * (a dropped connection, a timeout, 429, 5xx): a refused prompt or a bad key fails at once,
 * and `resend` decides for a connection that may have reached the server.
 * Waits use "full jitter" (a random delay up to the exponential bound) so many frames'
 * retries do not arrive together; a server's Retry-After is honoured when it is longer.
 */
export async function withRetries<T>(attempt: (attemptNumber: number) => Promise<T>, policy: RetryPolicy, resend: Resend<T> = 'always'): Promise<T> {
  const random = policy.random ?? Math.random;
  for (let attemptNumber = 1; ; attemptNumber += 1) {
    try {
      return await attempt(attemptNumber);
    } catch (error) {
      if (policy.signal?.aborted) throw policy.signal.reason;
      const retryable = error instanceof ProviderError && error.retryable;
      if (!retryable) throw error;
      const bound = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attemptNumber - 1));
      const jittered = Math.round(random() * bound);
      const retryAfter = error instanceof RemoteError ? (error.retryAfterMs ?? 0) : 0;
      const delayMs = Math.min(Math.max(jittered, retryAfter), Math.max(policy.maxDelayMs, retryAfter));
      if (resend !== 'always' && error instanceof RemoteError && deliveryOf(error) === 'may-have-arrived') {
        if (resend === 'if-not-sent') throw notSentAgain(error, 'the server may have started the job, and its API cannot say whether it did');
        // The wait first: a server that read the body a moment ago may not list the job yet.
        await sleep(delayMs, policy.signal);
        const found = await askAfterDrop(resend.ask, error, policy.signal);
        if (found.kind === 'found') return found.value;
        if (found.kind === 'final') throw notSentAgain(error, found.reason);
        if (attemptNumber >= policy.attempts) throw error;
        policy.onRetry?.(error, attemptNumber, delayMs);
        continue;
      }
      if (attemptNumber >= policy.attempts) throw error;
      policy.onRetry?.(error, attemptNumber, delayMs);
      await sleep(delayMs, policy.signal);
    }
  }
}

/** The server's answer; one that cannot be had counts as "cannot tell". */
async function askAfterDrop<T>(ask: (error: RemoteError) => Promise<AfterDrop<T>>, error: RemoteError, signal: AbortSignal | undefined): Promise<AfterDrop<T>> {
  try {
    return await ask(error);
  } catch (failure) {
    if (signal?.aborted) throw signal.reason;
    return { kind: 'final', reason: `the server could not be asked whether it took the job (${(failure as Error).message})` };
  }
}
