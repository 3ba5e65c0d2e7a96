/**
 * Lets the check_pending cron cut short the waits between polls: a poller sleeps until its
 * interval ends, {@link WakeSignal.wake} is called, or its signal aborts. A wake that comes
 * while a poller is busy (its request in flight) is not lost: the poller passes the
 * {@link WakeSignal.epoch} it saw before that work, and its next wait ends at once.
 */
export class WakeSignal {
  private readonly waiters = new Set<() => void>();
  private wakes = 0;

  /** Changes with every wake. */
  get epoch(): number {
    return this.wakes;
  }

  /** Waits `ms` (0: only until woken), or rejects with the signal's reason once it aborts. */
  wait(ms: number, signal: AbortSignal, seenEpoch = this.wakes): Promise<void> {
    if (signal.aborted) return Promise.reject(signal.reason);
    if (seenEpoch !== this.wakes) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(done);
        signal.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = (): void => {
        clearTimeout(timer);
        this.waiters.delete(done);
        reject(signal.reason);
      };
      const timer = ms > 0 ? setTimeout(done, ms) : undefined;
      this.waiters.add(done);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Ends every wait now, and the next wait of pollers busy meanwhile. */
  wake(): void {
    this.wakes += 1;
    for (const done of [...this.waiters]) done();
  }
}
