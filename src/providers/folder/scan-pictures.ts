/**
 * Finds the pictures in a user's photo folder. Read-only: it lists, never opens, copies or
 * moves a file. Symbolic links are followed (people link albums in), but each real folder
 * is visited once, so a link back up the tree cannot loop.
 */
import type { Dirent } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** JPEG, PNG and WebP by extension, in any case (cameras write .JPG, phones .jpeg). */
const PICTURE = /\.(jpe?g|png|webp)$/i;

export function isPictureName(name: string): boolean {
  return PICTURE.test(name) && !name.startsWith('.');
}

export interface ScanOptions {
  /** Folder levels below the root still searched; deeper ones are ignored. */
  readonly maxDepth?: number;
  /** Told about each subfolder that could not be read; the scan goes on without it. */
  readonly onSkip?: (path: string, error: unknown) => void;
}

export interface ScanResult {
  /** Absolute paths, sorted, so a scan of the same tree gives the same list. */
  readonly pictures: readonly string[];
  /** Subfolders that could not be read. */
  readonly skipped: number;
}

/**
 * Lists the pictures under `root`. Rejects (with the fs error) only when the root itself
 * cannot be read; hidden files and folders (a leading dot) are left out.
 */
export async function scanPictures(root: string, options: ScanOptions = {}): Promise<ScanResult> {
  const maxDepth = options.maxDepth ?? 8;
  const rootStat = await stat(root);
  if (!rootStat.isDirectory()) {
    throw Object.assign(new Error(`${root} is not a folder`), { code: 'ENOTDIR' });
  }
  const visited = new Set<string>([`${rootStat.dev}:${rootStat.ino}`]);
  const pictures: string[] = [];
  let skipped = 0;

  const walk = async (folder: string, entries: Dirent[], depth: number): Promise<void> => {
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const path = join(folder, entry.name);
      let isFile = entry.isFile();
      let isDirectory = entry.isDirectory();
      let identity: string | undefined;
      if (entry.isSymbolicLink()) {
        const target = await stat(path).catch(() => undefined);
        if (target === undefined) continue; // a dangling link
        isFile = target.isFile();
        isDirectory = target.isDirectory();
        identity = `${target.dev}:${target.ino}`;
      }
      if (isFile) {
        if (isPictureName(entry.name)) pictures.push(path);
        continue;
      }
      if (!isDirectory || depth >= maxDepth) continue;
      if (identity === undefined) {
        const own = await stat(path).catch(() => undefined);
        if (own === undefined) continue;
        identity = `${own.dev}:${own.ino}`;
      }
      if (visited.has(identity)) continue;
      visited.add(identity);
      let children: Dirent[];
      try {
        children = await readdir(path, { withFileTypes: true });
      } catch (error) {
        skipped += 1;
        options.onSkip?.(path, error);
        continue;
      }
      await walk(path, children, depth + 1);
    }
  };

  await walk(root, await readdir(root, { withFileTypes: true }), 0);
  pictures.sort();
  return { pictures, skipped };
}
