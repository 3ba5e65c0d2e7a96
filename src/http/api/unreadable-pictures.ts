import { stat } from 'node:fs/promises';
import { LRUCache } from 'lru-cache';
import { HttpError } from '../http-error.js';

/** Pictures remembered as undecodable at most; each costs a name. */
const MAX_REMEMBERED = 10_000;

/**
 * Stored originals that do not decode (a download cut short, a file replaced by hand). Their
 * frame render and thumbnail answer 422 instead of a 500 with a stack on every request. The
 * first refusal is logged (by the error middleware, like every 4xx); later ones answer at
 * once, quietly, without decoding the file again. A picture is forgotten when it leaves the
 * library, so a new file under a reused name is tried afresh.
 */
export class UnreadablePictures {
  private readonly known = new LRUCache<string, string>({ max: MAX_REMEMBERED });

  /**
   * Runs `make` (a render of the picture `name` from `originalPath`). A failure to decode
   * becomes 422; an original gone from disk 404; anything else (disk full, a bug) is
   * passed on as it is, a 500 that is logged each time.
   */
  async guard<T>(name: string, originalPath: string, make: () => Promise<T>): Promise<T> {
    const reason = this.known.get(name);
    if (reason !== undefined) throw unreadable(reason, { quiet: true });
    try {
      return await make();
    } catch (error) {
      if (isSystemError(error)) throw error;
      if (!(await exists(originalPath))) throw new HttpError(404, 'NotFound', 'The picture is gone');
      // The decoder's own words, without the path on disk (clients never see paths).
      const reason = innermostMessage(error).split(originalPath).join(name);
      this.known.set(name, reason);
      throw unreadable(reason, { quiet: false });
    }
  }

  forget(name: string): void {
    this.known.delete(name);
  }
}

function unreadable(reason: string, options: { quiet: boolean }): HttpError {
  return new HttpError(422, 'UnreadablePicture', 'The stored picture cannot be decoded; delete it, or replace its file', reason, options);
}

/**
 * Decoders (sharp) reject with plain errors; the file system's carry an errno `code`
 * (ENOSPC, EACCES...), on the error or on its cause (renderForFrame wraps).
 */
function isSystemError(error: unknown): boolean {
  for (let current = error, depth = 0; current instanceof Error && depth < 4; current = current.cause, depth += 1) {
    if (typeof (current as NodeJS.ErrnoException).code === 'string') return true;
  }
  return false;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

function innermostMessage(error: unknown): string {
  let current = error;
  for (let depth = 0; current instanceof Error && current.cause instanceof Error && depth < 4; depth += 1) current = current.cause;
  return current instanceof Error ? current.message : String(current);
}
