import { SerialQueue } from '../../util/serial-queue.js';

/**
 * Sends one job at a time to a generator that cannot take two (Imagine loads a pipeline per
 * request; AUTOMATIC1111 queues behind a lock with no timeout, so a waiting request would
 * spend its own timeout in that queue). A caller whose signal aborts while waiting for its
 * turn leaves at once and its task is skipped; a task already running gets the abort through
 * its own signal and is waited for, so its clean-up (an interrupt sent to the server) is done
 * when the caller's promise settles.
 */
export class OneAtATime {
  private readonly queue = new SerialQueue();

  run<T>(signal: AbortSignal, task: () => Promise<T>): Promise<T> {
    if (signal.aborted) return Promise.reject(signal.reason);
    let started = false;
    const turn = this.queue.run(async () => {
      signal.throwIfAborted();
      started = true;
      return task();
    });
    return new Promise<T>((resolve, reject) => {
      const onAbort = (): void => {
        if (!started) reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      turn.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  }
}
