import { dirname } from 'node:path';
import { describeFsError, isStorageError } from './fs-errors.js';
import type { Logger } from './logger.js';
import type { NoticeBoard } from './notice-board.js';

/**
 * Writes that failed because of the disk (full, read-only, permissions), per folder: raised
 * on the notice board so the page and `/status` say it in words, logged once when it starts
 * and once when it is over, never once per frame request.
 */
export class StorageProblems {
  constructor(
    private readonly notices: NoticeBoard,
    private readonly logger: Logger,
  ) {}

  /**
   * Reports a failed write. `consequence` says what it means for the owner ("the call counts
   * are kept in memory only"). Returns false when the error is not a storage problem (a bug,
   * bad data): the caller handles those as before.
   */
  report(error: unknown, fallbackPath: string, consequence: string): boolean {
    if (!isStorageError(error)) return false;
    const path = (error as NodeJS.ErrnoException).path ?? fallbackPath;
    const message = `${describeFsError(error, path)}. ${consequence}`;
    if (this.notices.raise(keyFor(path), message)) this.logger.error(message);
    return true;
  }

  /** A write under `path` worked: a problem reported for its folder is over. */
  recovered(path: string): void {
    if (this.notices.clear(keyFor(path))) this.logger.info(`${dirname(path)} takes writes again`);
  }
}

function keyFor(path: string): string {
  return `storage:${dirname(path)}`;
}
