import { ProviderError } from '../types.js';
import { RemoteError } from './remote-error.js';

/**
 * Statuses a reverse proxy answers when it stopped waiting for the server behind it: 504
 * Gateway Timeout (nginx, Traefik, HAProxy) and Cloudflare's 524 "A timeout occurred". The
 * server did not stop: like our own timeout, they say "still working", not "failed".
 */
export function isGatewayTimeout(status: number | undefined): boolean {
  return status === 504 || status === 524;
}

/**
 * Sends a request that starts work on the server. These servers do not stop a job whose
 * caller left, so one that timed out may still be running: sending it again would queue a
 * second copy behind the first (and make the picture twice). A timeout, ours or a proxy's
 * (see {@link isGatewayTimeout}), therefore becomes a final failure, by default a plain
 * {@link ProviderError}; refused connections and other error answers stay as they are,
 * retryable where they were. `send` should throw the error for a non-2xx answer itself, so
 * that a proxy's 504 is seen here.
 */
export async function timeoutIsFinal<T>(
  send: () => Promise<T>,
  final: (timeout: RemoteError) => Error = (timeout) => new ProviderError(timeout.message, { cause: timeout }),
): Promise<T> {
  try {
    return await send();
  } catch (error) {
    if (error instanceof RemoteError && (error.failure === 'timeout' || (error.failure === 'http' && isGatewayTimeout(error.status)))) throw final(error);
    throw error;
  }
}
