/**
 * A real small file system for disk-full and read-only tests: a tmpfs of a few hundred KB
 * mounted on a fresh folder (root only, as CI runs). Where the machine cannot mount one (not
 * root, no mount namespace), `mountSmallFilesystem` says why and the test skips with that
 * reason printed. No fake `fs`: the server meets the kernel's own ENOSPC and EROFS.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SmallFilesystem {
  /** The mount point: an empty folder on the new file system. */
  readonly dir: string;
  /** Fills every free byte, so the next write fails with ENOSPC. */
  fill(): Promise<void>;
  /** Deletes the filler: writes work again. */
  unfill(): Promise<void>;
  /** Remounts read-only (EROFS) or read-write again. */
  readOnly(on: boolean): void;
  unmount(): Promise<void>;
}

export type MountResult = { readonly fs: SmallFilesystem } | { readonly skip: string };

/** Mounts a tmpfs of `sizeKb` on `at` (an empty folder, made if missing) or on a new temporary folder. */
export async function mountSmallFilesystem(options: { at?: string; sizeKb?: number } = {}): Promise<MountResult> {
  if (process.platform !== 'linux') return { skip: `needs Linux tmpfs; this is ${process.platform}` };
  if (process.getuid?.() !== 0) return { skip: 'needs root to mount a small tmpfs (CI runs as root)' };
  const dir = options.at ?? (await mkdtemp(join(tmpdir(), 'aiframe-smallfs-')));
  await mkdir(dir, { recursive: true });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${options.sizeKb ?? 512}k,mode=0755`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    return { skip: `cannot mount a tmpfs here: ${String((error as { stderr?: Buffer }).stderr ?? error).trim()}` };
  }
  const filler = join(dir, '.filler');
  return {
    fs: {
      dir,
      async fill() {
        const handle = await open(filler, 'a');
        const block = Buffer.alloc(4096, 1);
        try {
          for (;;) await handle.write(block);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
        } finally {
          await handle.close();
        }
      },
      async unfill() {
        await rm(filler, { force: true });
      },
      readOnly(on) {
        execFileSync('mount', ['-o', `remount,${on ? 'ro' : 'rw'}`, dir], { stdio: 'pipe' });
      },
      async unmount() {
        execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
        if (options.at === undefined) await rm(dir, { recursive: true, force: true });
      },
    },
  };
}
