import { randomBytes } from 'node:crypto';
import { open, rename, unlink, mkdir } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import { naming } from './fs-errors.js';

/** Temporary files written by {@link writeFileAtomic} start with this, so clean-ups can find stale ones. */
export const TEMP_PREFIX = '.tmp-';

export interface AtomicWriteOptions {
  /**
   * The new file's permissions (0o600 for a secret), exactly, whatever the umask. They are
   * set on the temporary file before anything is written to it: a file chmod-ed after the
   * rename would be readable by other local users in between. Unset: the usual default.
   */
  readonly mode?: number;
}

/**
 * Writes a file so that a crash or kill at any moment leaves either the old or the new
 * content under `path`, never a half-written file: write to a temporary name in the same
 * folder, fsync, then rename over the target (rename is atomic within one file system).
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, options: AtomicWriteOptions = {}): Promise<void> {
  // Outside the try: a failure here is about the folder, and names it.
  await mkdir(dirname(path), { recursive: true });
  try {
    await writeThroughTemporary(path, data, options);
  } catch (error) {
    // The owner knows the file, not our temporary name: failures name the file asked for.
    throw naming(error, path);
  }
}

async function writeThroughTemporary(path: string, data: string | Uint8Array, options: AtomicWriteOptions): Promise<void> {
  const dir = dirname(path);
  const temp = join(dir, `${TEMP_PREFIX}${basename(path)}-${randomBytes(6).toString('hex')}`);
  // 'wx': the temporary name must be new, so the file is ours and has the mode asked for.
  const handle = await open(temp, 'wx', options.mode ?? 0o666);
  try {
    // open's mode is reduced by the umask; chmod makes it exactly the one asked for.
    if (options.mode !== undefined) await handle.chmod(options.mode);
    await handle.writeFile(data);
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

/** {@link writeFileAtomic} for a JSON document, pretty-printed so people can read and edit it. */
export async function writeJsonAtomic(path: string, value: unknown, options: AtomicWriteOptions = {}): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`, options);
}
