import { createHash } from 'node:crypto';
import { mkdir, rm, rmdir, stat, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../../util/logger.js';
import { sleep } from '../../http/abortable-sleep.js';
import { isIncluded } from './catalogue.js';
import { ModelDownloadError } from './download-errors.js';
import { downloadFile, PARTIAL_SUFFIX } from './file-download.js';
import { createGitBlobHash, feedFile } from './file-hash.js';
import { HubClient, type RepoFile } from './hub-client.js';
import { MANIFEST_FILE, ManifestError, readManifest, writeManifest, type ManifestFile, type ModelManifest } from './manifest.js';
import { REQUIRED_MODEL_FILES } from './model-layout.js';
import { acquirePullLock } from './pull-lock.js';
import { formatBytes } from './format-bytes.js';

/** What to fetch; a {@link CatalogueEntry} is one. */
export interface PullTarget {
  /** Folder name under modelsDir. */
  readonly name: string;
  readonly repo: string;
  readonly revision: string;
  /** `folder/` prefixes and exact paths, as in {@link CatalogueEntry.include}. */
  readonly include: readonly string[];
}

export interface PullProgress {
  /** `checking`: hashing files already on disk; `downloading`: fetching `file`. */
  readonly phase: 'listing' | 'checking' | 'downloading' | 'done';
  readonly file?: string;
  readonly fileBytesDone: number;
  readonly fileBytesTotal: number;
  readonly bytesDone: number;
  readonly bytesTotal: number;
  readonly filesDone: number;
  readonly filesTotal: number;
}

export interface PullOptions {
  /** `<data>/models`; the model goes to `<modelsDir>/<name>`. */
  readonly modelsDir: string;
  /** Hub base URL (HF_ENDPOINT); default https://huggingface.co. */
  readonly endpoint?: string;
  /** HF_TOKEN, for gated repositories; never logged. */
  readonly token?: string;
  /** Overrides the target's revision. */
  readonly revision?: string;
  readonly onProgress?: (progress: PullProgress) => void;
  readonly logger?: Logger;
  readonly signal?: AbortSignal;
  /** Further attempts per file after a network failure, each resuming the partial file (default 3). */
  readonly retries?: number;
  /** Wait before retry n is n × this (default 2000 ms). */
  readonly retryDelayMs?: number;
  readonly stallTimeoutMs?: number;
  readonly fetch?: typeof fetch;
}

export interface PullResult {
  readonly dir: string;
  readonly manifest: ModelManifest;
  /** Bytes fetched over the network in this run. */
  readonly downloadedBytes: number;
  /** Files already present and correct, not fetched again. */
  readonly skippedFiles: number;
  /** Files continued from a `.partial` left by an earlier run. */
  readonly resumedFiles: number;
}

/**
 * Downloads `target` into `<modelsDir>/<name>`: lists the revision with the hub's tree API,
 * fetches the selected files (resuming, verifying size and hashes), and writes
 * `aiframe-model.json` last, atomically, so the folder counts as complete only then.
 * Files already present and matching are kept.
 */
export async function pullModel(target: PullTarget, options: PullOptions): Promise<PullResult> {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(target.name)) throw new ModelDownloadError(`invalid model name "${target.name}"`);
  const revision = options.revision ?? target.revision;
  const hub = new HubClient({
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    ...(options.token === undefined ? {} : { token: options.token }),
    ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
  });
  const hadToken = options.token !== undefined && options.token !== '';
  const dir = join(options.modelsDir, target.name);
  const logger = options.logger;
  await mkdir(dir, { recursive: true });
  const release = await acquirePullLock(dir, target.name);
  try {
    const report = (progress: Omit<PullProgress, 'bytesTotal' | 'filesTotal'>, totals: { bytes: number; files: number }): void =>
      options.onProgress?.({ ...progress, bytesTotal: totals.bytes, filesTotal: totals.files });
    report({ phase: 'listing', fileBytesDone: 0, fileBytesTotal: 0, bytesDone: 0, filesDone: 0 }, { bytes: 0, files: 0 });

    const all = await withRetries(options, logger, `listing ${target.repo}`, () => hub.listFiles(target.repo, revision, options.signal));
    const files = selectFiles(all, target, revision);
    const totals = { bytes: files.reduce((sum, file) => sum + file.size, 0), files: files.length };
    logger?.info(`pulling ${target.name} from ${target.repo}@${revision}: ${files.length} files, ${totals.bytes} bytes`, { endpoint: hub.endpoint });

    // Files already on disk with the listed size are re-hashed, not trusted: `verify` sends
    // people here to repair a corrupted file, and hashing is cheap next to downloading.
    let previous: ModelManifest | undefined;
    try {
      previous = await readManifest(dir);
    } catch (error) {
      if (!(error instanceof ManifestError)) throw error;
    }
    const present = new Map<string, string>(); // path -> sha256 of the verified file on disk
    let bytesDone = 0;
    let filesDone = 0;
    for (const file of files) {
      const onDisk = await stat(join(dir, file.path)).catch(() => undefined);
      if (onDisk === undefined || !onDisk.isFile() || onDisk.size !== file.size) continue;
      let fileDone = 0;
      const sha256 = await hashExisting(
        join(dir, file.path),
        file,
        (bytes) => {
          fileDone += bytes;
          report(
            { phase: 'checking', file: file.path, fileBytesDone: fileDone, fileBytesTotal: file.size, bytesDone: bytesDone + fileDone, filesDone },
            totals,
          );
        },
        options.signal,
      );
      if (sha256 === undefined) continue;
      present.set(file.path, sha256);
      bytesDone += file.size;
      filesDone += 1;
    }

    const missing = files.filter((file) => !present.has(file.path));
    await checkFreeSpace(dir, missing);
    const unchanged = missing.length === 0 && previous !== undefined && previous.repo === target.repo && previous.revision === revision;
    if (!unchanged) {
      // From here on the folder is not a complete model until the new manifest is written.
      await rm(join(dir, MANIFEST_FILE), { force: true });
    }

    let downloadedBytes = 0;
    let resumedFiles = 0;
    let commit = previous?.revision === revision && previous.repo === target.repo ? previous.commit : undefined;
    let firstCommit: string | undefined;
    for (const file of missing) {
      const base = bytesDone;
      let fileStart = -1;
      let fileDone = 0;
      const result = await withRetries(options, logger, `downloading ${file.path}`, () =>
        downloadFile({
          hub,
          hadToken,
          url: hub.resolveUrl(target.repo, revision, file.path),
          file,
          target: join(dir, file.path),
          ...(options.signal === undefined ? {} : { signal: options.signal }),
          ...(options.stallTimeoutMs === undefined ? {} : { stallTimeoutMs: options.stallTimeoutMs }),
          onBytes: (done) => {
            if (fileStart < 0) fileStart = done;
            fileDone = done;
            report({ phase: 'downloading', file: file.path, fileBytesDone: done, fileBytesTotal: file.size, bytesDone: base + done, filesDone }, totals);
          },
        }),
      );
      if (result.resumedFrom > 0) {
        resumedFiles += 1;
        logger?.info(`resumed ${file.path} at byte ${result.resumedFrom}`);
      }
      downloadedBytes += Math.max(0, fileDone - Math.max(fileStart, 0));
      firstCommit ??= result.commit;
      present.set(file.path, result.sha256);
      bytesDone += file.size;
      filesDone += 1;
    }
    commit = firstCommit ?? commit;

    const manifestFiles: ManifestFile[] = files.map((file) => ({ path: file.path, size: file.size, sha256: present.get(file.path)! }));
    const manifest: ModelManifest = {
      name: target.name,
      repo: target.repo,
      revision,
      ...(commit === undefined ? {} : { commit }),
      downloadedAt: unchanged && previous !== undefined ? previous.downloadedAt : new Date().toISOString(),
      files: manifestFiles,
    };
    await writeManifest(dir, manifest);
    report({ phase: 'done', fileBytesDone: 0, fileBytesTotal: 0, bytesDone: totals.bytes, filesDone: files.length }, totals);
    logger?.info(`pulled ${target.name}: ${downloadedBytes} bytes downloaded, ${files.length - missing.length} files already present`);
    return { dir, manifest, downloadedBytes, skippedFiles: files.length - missing.length, resumedFiles };
  } finally {
    await release();
    // A pull that failed before fetching anything leaves no empty folder behind (rmdir
    // refuses folders with content, which is exactly the case to keep).
    await rmdir(dir).catch(() => undefined);
  }
}

/** The tree entries `target.include` selects, after checking every pattern matched and the layout is complete. */
function selectFiles(all: readonly RepoFile[], target: PullTarget, revision: string): RepoFile[] {
  const selected = all.filter((file) => isIncluded(target.include, file.path));
  for (const pattern of target.include) {
    const matched = pattern.endsWith('/') ? selected.some((file) => file.path.startsWith(pattern)) : selected.some((file) => file.path === pattern);
    if (!matched) throw new ModelDownloadError(`${target.repo}@${revision} has no ${pattern} (the repository changed; try another --revision)`);
  }
  for (const file of selected) {
    // These paths come from the network and become paths on disk.
    const parts = file.path.split('/');
    if (file.path.startsWith('/') || file.path.includes('\\') || parts.some((part) => part === '' || part === '.' || part === '..')) {
      throw new ModelDownloadError(`${target.repo}: refusing unsafe file path "${file.path}"`);
    }
    if (file.path === MANIFEST_FILE) throw new ModelDownloadError(`${target.repo}: a repository file would overwrite ${MANIFEST_FILE}`);
  }
  const paths = new Set(selected.map((file) => file.path));
  const lacking = REQUIRED_MODEL_FILES.filter((path) => !paths.has(path));
  if (lacking.length > 0) {
    throw new ModelDownloadError(`${target.repo}@${revision} is not an ONNX Stable Diffusion layout: it lacks ${lacking.join(', ')}`);
  }
  return selected;
}

/**
 * Fails early, before gigabytes arrive, when the disk cannot hold what is left to fetch
 * (partial files count as already there). A file system that cannot say is not checked.
 */
async function checkFreeSpace(dir: string, missing: readonly RepoFile[]): Promise<void> {
  let needed = 0;
  for (const file of missing) {
    const partial = await stat(join(dir, `${file.path}${PARTIAL_SUFFIX}`)).catch(() => undefined);
    needed += Math.max(0, file.size - (partial?.size ?? 0));
  }
  if (needed === 0) return;
  const fs = await statfs(dir).catch(() => undefined);
  if (fs === undefined) return;
  const free = fs.bavail * fs.bsize;
  if (free < needed) {
    throw new ModelDownloadError(`not enough disk space in ${dir}: ${formatBytes(needed)} still to download, ${formatBytes(free)} free`);
  }
}

/** sha256 of a file already on disk when it matches what the tree lists; undefined when it does not. */
async function hashExisting(path: string, file: RepoFile, onBytes: (bytes: number) => void, signal?: AbortSignal): Promise<string | undefined> {
  const sha256 = createHash('sha256');
  const git = file.gitOid === undefined ? undefined : createGitBlobHash(file.size);
  await feedFile(path, git === undefined ? [sha256] : [sha256, git], onBytes, signal);
  const digest = sha256.digest('hex');
  if (file.sha256 !== undefined && digest !== file.sha256) return undefined;
  if (git !== undefined && git.digest('hex') !== file.gitOid) return undefined;
  return digest;
}

async function withRetries<T>(options: PullOptions, logger: Logger | undefined, what: string, run: () => Promise<T>): Promise<T> {
  const retries = options.retries ?? 3;
  const delayMs = options.retryDelayMs ?? 2000;
  for (let attempt = 0; ; attempt++) {
    try {
      return await run();
    } catch (error) {
      if (!(error instanceof ModelDownloadError) || !error.retryable || attempt >= retries || options.signal?.aborted) throw error;
      logger?.warn(`${what} failed (${error.message}); retry ${attempt + 1} of ${retries}`);
      await sleep(delayMs * (attempt + 1), options.signal);
    }
  }
}
