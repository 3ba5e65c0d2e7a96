import { stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { sha256File } from './file-hash.js';
import { MANIFEST_FILE, ManifestError, readManifest, type ModelManifest } from './manifest.js';
import { externalDataFiles, hasPartialFiles, MODEL_GRAPH_FILES, REQUIRED_MODEL_FILES, type LayoutProblem } from './model-layout.js';

export interface VerifyProgress {
  readonly file: string;
  readonly fileBytesDone: number;
  readonly fileBytesTotal: number;
  readonly bytesDone: number;
  readonly bytesTotal: number;
}

export interface VerifyReport {
  readonly ok: boolean;
  readonly dir: string;
  readonly manifest: ModelManifest | undefined;
  readonly problems: readonly LayoutProblem[];
  /** Files whose content was re-hashed (the others, without a recorded hash, were checked by size). */
  readonly hashedFiles: number;
  readonly checkedFiles: number;
}

/**
 * The slow, thorough check behind `model verify`: every file the manifest lists is re-hashed
 * (or its size checked when no hash was recorded), and the pipeline's required files and
 * the external weights their graphs name must be there.
 */
export async function verifyModel(
  dir: string,
  options: { readonly onProgress?: (progress: VerifyProgress) => void; readonly signal?: AbortSignal } = {},
): Promise<VerifyReport> {
  const problems: LayoutProblem[] = [];
  const done = (manifest: ModelManifest | undefined, hashedFiles: number, checkedFiles: number): VerifyReport => ({
    ok: problems.length === 0,
    dir,
    manifest,
    problems,
    hashedFiles,
    checkedFiles,
  });
  const info = await stat(dir).catch(() => undefined);
  if (info === undefined || !info.isDirectory()) {
    problems.push({ file: dir, problem: info === undefined ? 'folder does not exist' : 'is not a folder' });
    return done(undefined, 0, 0);
  }

  let manifest: ModelManifest | undefined;
  try {
    manifest = await readManifest(dir);
  } catch (error) {
    if (!(error instanceof ManifestError)) throw error;
    problems.push({ file: MANIFEST_FILE, problem: error.message });
  }
  // No manifest and no `.partial` files: a folder the user exported or copied themselves (a
  // legal `providers.onnx.model`). Its layout is still checked below; there is nothing to hash.
  if (manifest === undefined && problems.length === 0 && (await hasPartialFiles(dir))) {
    problems.push({ file: MANIFEST_FILE, problem: 'is missing: the download did not finish (run pull again)' });
  }

  let hashedFiles = 0;
  let checkedFiles = 0;
  const listed = new Set<string>();
  if (manifest !== undefined) {
    const bytesTotal = manifest.files.reduce((sum, file) => sum + file.size, 0);
    let bytesDone = 0;
    for (const file of manifest.files) {
      listed.add(file.path);
      checkedFiles += 1;
      const path = join(dir, file.path);
      const onDisk = await stat(path).catch(() => undefined);
      if (onDisk === undefined || !onDisk.isFile()) {
        problems.push({ file: file.path, problem: 'is missing' });
      } else if (onDisk.size !== file.size) {
        problems.push({ file: file.path, problem: `has ${onDisk.size} bytes, expected ${file.size}` });
      } else if (file.sha256 !== undefined) {
        let fileDone = 0;
        const actual = await sha256File(
          path,
          (bytes) => {
            fileDone += bytes;
            options.onProgress?.({ file: file.path, fileBytesDone: fileDone, fileBytesTotal: file.size, bytesDone: bytesDone + fileDone, bytesTotal });
          },
          options.signal,
        );
        hashedFiles += 1;
        if (actual !== file.sha256) problems.push({ file: file.path, problem: `sha256 is ${actual}, expected ${file.sha256}` });
      }
      bytesDone += file.size;
      options.onProgress?.({ file: file.path, fileBytesDone: file.size, fileBytesTotal: file.size, bytesDone, bytesTotal });
    }
  }

  // Layout: what the pipeline opens must exist even when the manifest (or its absence) says nothing of it.
  for (const file of REQUIRED_MODEL_FILES) {
    if (listed.has(file)) continue;
    const onDisk = await stat(join(dir, file)).catch(() => undefined);
    if (onDisk === undefined || !onDisk.isFile()) problems.push({ file, problem: 'is missing (not an ONNX Stable Diffusion layout)' });
    else if (onDisk.size === 0) problems.push({ file, problem: 'is empty' });
  }
  for (const model of MODEL_GRAPH_FILES) {
    for (const location of await externalDataFiles(join(dir, model))) {
      const file = `${dirname(model)}/${location}`;
      if (listed.has(file)) continue;
      const onDisk = await stat(join(dir, file)).catch(() => undefined);
      if (onDisk === undefined || !onDisk.isFile()) problems.push({ file, problem: `is missing (external weights of ${model})` });
    }
  }
  return done(manifest, hashedFiles, checkedFiles);
}
