import { open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ModelDownloadError } from './download-errors.js';

const LOCK_FILE = '.aiframe-pull.lock';

/**
 * Keeps two pulls from writing the same model folder at once (two terminals, or a cron job
 * and a person). The lock holds the owner's pid; a lock whose process is gone is taken over.
 */
export async function acquirePullLock(dir: string, name: string): Promise<() => Promise<void>> {
  const path = join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(path, 'wx');
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      return async () => {
        await rm(path, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const pid = Number((await readFile(path, 'utf8').catch(() => '')).trim());
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)) {
      throw new ModelDownloadError(`another pull of ${name} is running (pid ${pid}); wait for it or stop it`);
    }
    await rm(path, { force: true });
  }
  throw new ModelDownloadError(`cannot lock ${dir} for the pull`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
