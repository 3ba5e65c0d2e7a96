import { randomBytes } from 'node:crypto';
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { TEMP_PREFIX } from '../../util/atomic-write.js';

/** Only the owner may read or write it. */
const SECRET_FILE_MODE = 0o600;

/**
 * Writes a secret atomically (temporary file, fsync, rename) like writeFileAtomic, but the
 * temporary file is created owner-only: a file created with the default mode and chmod-ed
 * afterwards would be readable by other local users in between.
 */
export async function writeSecretFile(path: string, secret: string): Promise<void> {
  const temp = join(dirname(path), `${TEMP_PREFIX}${basename(path)}-${randomBytes(6).toString('hex')}`);
  const handle = await open(temp, 'wx', SECRET_FILE_MODE);
  try {
    // open's mode is reduced by the umask; chmod makes it exactly owner-only either way.
    await handle.chmod(SECRET_FILE_MODE);
    await handle.writeFile(`${secret}\n`);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  await handle.close();
  try {
    await rename(temp, path);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
}

/** The secret in `path` (surrounding white space removed), or undefined when there is no file. */
export async function readSecretFile(path: string): Promise<string | undefined> {
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
