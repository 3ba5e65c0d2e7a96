import { join } from 'node:path';
import { z } from 'zod';
import { writeJsonAtomic } from '../../../util/atomic-write.js';
import { readTextIfExists } from '../../../util/read-if-exists.js';

/**
 * Written last by a pull, atomically: a model folder counts as a complete download only when
 * this file exists. It also records what `verify` re-hashes against.
 */
export const MANIFEST_FILE = 'aiframe-model.json';

export interface ManifestFile {
  /** Path inside the model folder, `/`-separated. */
  readonly path: string;
  readonly size: number;
  /** Lower-case hex sha256, when the hub published one (LFS files); otherwise only the size is checked. */
  readonly sha256?: string;
}

export interface ModelManifest {
  readonly name: string;
  readonly repo: string;
  readonly revision: string;
  /** The commit the revision pointed at, when the hub said so (`X-Repo-Commit`). */
  readonly commit?: string;
  readonly downloadedAt: string;
  readonly files: readonly ManifestFile[];
}

const manifestSchema = z.object({
  name: z.string(),
  repo: z.string(),
  revision: z.string(),
  commit: z.string().optional(),
  downloadedAt: z.string(),
  files: z.array(
    z.object({
      path: z.string().min(1),
      size: z.number().int().nonnegative(),
      sha256: z
        .string()
        .regex(/^[0-9a-f]{64}$/)
        .optional(),
    }),
  ),
});

export class ManifestError extends Error {
  override readonly name = 'ManifestError';
}

/** The manifest in `dir`, undefined when there is none, ManifestError when it is unreadable. */
export async function readManifest(dir: string): Promise<ModelManifest | undefined> {
  const path = join(dir, MANIFEST_FILE);
  const text = await readTextIfExists(path);
  if (text === undefined) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ManifestError(`${path} is not valid JSON`);
  }
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ManifestError(`${path}: ${issue?.path.join('.') ?? ''} ${issue?.message ?? 'invalid'}`.trim());
  }
  return parsed.data as ModelManifest;
}

export async function writeManifest(dir: string, manifest: ModelManifest): Promise<void> {
  await writeJsonAtomic(join(dir, MANIFEST_FILE), manifest);
}
