import { dirname } from 'node:path';

/**
 * File-system failures in words for the owner. The codes are the ones a home server meets
 * first: a full SD card (ENOSPC), a volume mounted read-only (EROFS), a Docker volume owned
 * by another uid (EACCES/EPERM), a folder where a file belongs (EISDIR), a missing parent
 * (ENOENT/ENOTDIR).
 */

/** The error's `code` (`ENOSPC`), or undefined for an error without one. */
export function errnoCode(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error && typeof (error as { code: unknown }).code === 'string') {
    return (error as { code: string }).code;
  }
  return undefined;
}

/** Codes that mean "this disk takes no writes now", whatever the file. */
const STORAGE_CODES: ReadonlySet<string> = new Set(['ENOSPC', 'EDQUOT', 'EROFS', 'EACCES', 'EPERM', 'EIO']);

/** True when a write failed because of the disk or its permissions, not because of our data. */
export function isStorageError(error: unknown): boolean {
  const code = errnoCode(error);
  return code !== undefined && STORAGE_CODES.has(code);
}

/** Who the server runs as, for the `chown` an owner must run. Undefined where there are no uids (Windows). */
export function processOwner(): { uid: number; gid: number } | undefined {
  return typeof process.getuid === 'function' && typeof process.getgid === 'function' ? { uid: process.getuid(), gid: process.getgid() } : undefined;
}

/**
 * One sentence: what failed on which path, and the fix. `action` is what we tried
 * ("write", "read", "create the folder").
 */
export function describeFsError(error: unknown, path: string, action = 'write'): string {
  const code = errnoCode(error);
  const owner = processOwner();
  switch (code) {
    case 'ENOSPC':
    case 'EDQUOT':
      return `cannot ${action} ${path}: the disk is full (${code}); free some space`;
    case 'EROFS':
      return `cannot ${action} ${path}: the file system is read-only (EROFS); mount it read-write`;
    case 'EACCES':
    case 'EPERM':
      return owner === undefined
        ? `cannot ${action} ${path}: permission denied (${code})`
        : `cannot ${action} ${path}: permission denied (${code}); the server runs as uid ${owner.uid}: run \`chown -R ${owner.uid}:${owner.gid} ${dirname(path)}\``;
    case 'EISDIR':
      return `cannot ${action} ${path}: it is a folder, but a file belongs there; move the folder away`;
    case 'EEXIST':
      // mkdir's EEXIST: something that is not a folder has the folder's name.
      return syscallOf(error) === 'mkdir'
        ? `cannot ${action} ${path}: it is a file, but a folder belongs there; move the file away`
        : `cannot ${action} ${path}: it already exists (EEXIST)`;
    case 'ENOTDIR':
      return `cannot ${action} ${path}: a part of the path is a file, not a folder`;
    case 'ENOENT':
      return `cannot ${action} ${path}: the folder ${dirname(path)} does not exist`;
    case 'EIO':
      return `cannot ${action} ${path}: input/output error (EIO); the disk or SD card may be failing`;
    default:
      return `cannot ${action} ${path}: ${code ?? (error instanceof Error ? error.message : String(error))}`;
  }
}

/** The system call that failed (`mkdir`, `open`), when the error says. */
export function syscallOf(error: unknown): string | undefined {
  const syscall = typeof error === 'object' && error !== null ? (error as { syscall?: unknown }).syscall : undefined;
  return typeof syscall === 'string' ? syscall : undefined;
}

/** The path a file-system error names, when it names one. */
export function errorPath(error: unknown): string | undefined {
  const path = typeof error === 'object' && error !== null ? (error as { path?: unknown }).path : undefined;
  return typeof path === 'string' ? path : undefined;
}

/**
 * Makes a file-system error name `path` (the file the caller asked for): a read on an open
 * handle (EISDIR) names no path, and a failed atomic write names its temporary file. Start-up
 * words such errors for the owner from this path. Returns the error, for `throw`.
 */
export function naming(error: unknown, path: string): unknown {
  if (errnoCode(error) !== undefined) (error as { path?: string }).path = path;
  return error;
}
