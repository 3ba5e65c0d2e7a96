import { chmod, mkdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { errnoCode } from './fs-errors.js';

/**
 * Owner-only files and folders: the data folder holds tokens and keys, so other users of the
 * machine must not read it. What the server creates it makes private; what the owner made
 * (a folder, a hand-written file) it never chmods behind the owner's back: it says what to run.
 */

/** Permission bits mean nothing on Windows: every check here passes there. */
const MODES_APPLY = process.platform !== 'win32';

/** `0644`. */
export function modeText(mode: number): string {
  return `0${(mode & 0o777).toString(8).padStart(3, '0')}`;
}

/**
 * Makes `dir` if it is missing, owner-only (0700) whatever the umask; its missing parents get
 * the usual mode (they are not ours). An existing folder is left as it is. True when made now.
 * A file in the way fails with EEXIST naming `dir`.
 */
export async function ensurePrivateFolder(dir: string): Promise<boolean> {
  try {
    await mkdir(dir, { mode: 0o700 });
  } catch (error) {
    const code = errnoCode(error);
    if (code === 'EEXIST') {
      if ((await stat(dir)).isDirectory()) return false;
      throw error;
    }
    if (code !== 'ENOENT') throw error;
    await mkdir(dirname(dir), { recursive: true });
    return ensurePrivateFolder(dir);
  }
  if (MODES_APPLY) await chmod(dir, 0o700);
  return true;
}

/** The folder's mode when group or others have any access to it; undefined when it is owner-only or missing. */
export async function folderOpenToOthers(dir: string): Promise<number | undefined> {
  if (!MODES_APPLY) return undefined;
  const mode = await modeOf(dir);
  return mode !== undefined && (mode & 0o077) !== 0 ? mode : undefined;
}

/**
 * The file's mode when another user of the machine can read it: its group or others may
 * read it, and its folder lets them in. A file inside an owner-only folder is private
 * whatever its own mode. Undefined when private or missing.
 */
export async function readableByOthers(file: string): Promise<number | undefined> {
  if (!MODES_APPLY) return undefined;
  const mode = await modeOf(file);
  if (mode === undefined || (mode & 0o044) === 0) return undefined;
  const folderMode = await modeOf(dirname(file));
  return folderMode !== undefined && (folderMode & 0o011) === 0 ? undefined : mode;
}

/** The warning for a secret-holding file others can read: what it holds and the chmod to run. */
export function readableFileAdvice(file: string, holds: string, mode: number): string {
  return `${file} holds ${holds} and other users of this machine can read it (mode ${modeText(mode)}): run \`chmod 600 ${file}\``;
}

/** The warning for a data folder others can enter. */
export function openFolderAdvice(dir: string, mode: number): string {
  return `${dir} holds the options, tokens and keys and other users of this machine can open it (mode ${modeText(mode)}): run \`chmod 700 ${dir}\``;
}

async function modeOf(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).mode & 0o777;
  } catch {
    return undefined;
  }
}
