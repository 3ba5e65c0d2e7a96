import { statSync } from 'node:fs';
import { dirname } from 'node:path';
import { ConfigError } from './config-error.js';
import { describeFsError, errnoCode, errorPath, syscallOf } from '../util/fs-errors.js';

/**
 * Why start-up stopped, in one line for the owner, and the exit code. Exit code 2 means a
 * person must fix something (an option, a folder, a permission, the port) and restarting
 * will not help, so a service manager told `RestartPreventExitStatus=2` does not restart-loop.
 * Exit code 1 is left for what a restart may cure (a full disk freed later) and for bugs;
 * a bug is not worded here: it keeps its stack trace.
 */
export interface StartupFailure {
  readonly message: string;
  readonly exitCode: 1 | 2;
}

/** File-system codes a person must fix before the server can start. */
const SETUP_CODES: ReadonlySet<string> = new Set(['EISDIR', 'ENOTDIR', 'EEXIST', 'ENOENT', 'EACCES', 'EPERM', 'EROFS', 'ELOOP', 'ENAMETOOLONG']);
/** Codes of a disk that may take writes again later: worded, but a restart may help. */
const TRANSIENT_CODES: ReadonlySet<string> = new Set(['ENOSPC', 'EDQUOT', 'EIO']);

const ACTIONS: Readonly<Record<string, string>> = {
  mkdir: 'create the folder',
  open: 'open',
  read: 'read',
  write: 'write',
  rename: 'write',
  fsync: 'write',
  fchmod: 'write',
  scandir: 'read the folder',
  opendir: 'read the folder',
  stat: 'reach',
  lstat: 'reach',
  access: 'reach',
  realpath: 'reach',
};

/** The one line and exit code for a start-up failure the owner can fix; undefined for a bug. */
export function describeStartupFailure(error: unknown): StartupFailure | undefined {
  if (error instanceof ConfigError) return { message: error.message, exitCode: 2 };
  const code = errnoCode(error);
  const path = errorPath(error);
  // Without a path there is nothing the owner could act on: treated as a bug, stack and all.
  if (code === undefined || path === undefined) return undefined;
  const transient = TRANSIENT_CODES.has(code);
  if (!transient && !SETUP_CODES.has(code)) return undefined;
  const syscall = syscallOf(error);
  const action = (syscall === undefined ? undefined : ACTIONS[syscall]) ?? 'use';
  const blocker = code === 'ENOTDIR' ? fileOnTheWay(path) : undefined;
  const message =
    blocker === undefined
      ? describeFsError(error, path, action)
      : `cannot ${action} ${path}: ${blocker} is a file, not a folder; move it away or choose another folder`;
  return { message, exitCode: transient ? 1 : 2 };
}

/** The nearest part of `path` that exists and is not a folder (what ENOTDIR tripped over). */
function fileOnTheWay(path: string): string | undefined {
  for (let part = path; dirname(part) !== part; part = dirname(part)) {
    try {
      if (!statSync(part).isDirectory()) return part;
    } catch {
      // Missing (or behind the file): look one level up.
    }
  }
  return undefined;
}
