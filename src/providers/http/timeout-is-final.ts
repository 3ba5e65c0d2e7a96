import { ProviderError } from '../types.js';
import { RemoteError } from './remote-error.js';

/**
 * Sends a request that starts work on the server. These servers do not stop a job whose
 * caller left, so one that timed out may still be running: sending it again would queue a
 * second copy behind the first (and make the picture twice). A timeout therefore becomes a
 * final failure, by default a plain {@link ProviderError}; refused connections and error
 * answers stay as they are, retryable where they were.
 */
export async function timeoutIsFinal<T>(
  send: () => Promise<T>,
  final: (timeout: RemoteError) => Error = (timeout) => new ProviderError(timeout.message, { cause: timeout }),
): Promise<T> {
  try {
    return await send();
  } catch (error) {
    if (error instanceof RemoteError && error.failure === 'timeout') throw final(error);
    throw error;
  }
}
