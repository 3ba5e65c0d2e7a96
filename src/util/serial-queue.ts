/**
 * Runs async tasks one after another. Used where concurrent callers must not interleave
 * a read-modify-write of the same file (two prompt adds arriving together must both land).
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task, task);
    // Keep the chain alive whatever this task does; callers see its own outcome.
    this.tail = result.catch(() => undefined);
    return result;
  }
}
