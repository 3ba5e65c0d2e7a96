import { createHash, type Hash } from 'node:crypto';
import { mkdir, open, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ChecksumMismatchError, ModelDownloadError } from './download-errors.js';
import { createGitBlobHash, feedFile } from './file-hash.js';
import { describe, statusError, type HubClient, type RepoFile } from './hub-client.js';

/** Suffix of a file still being downloaded; it is renamed into place only once verified. */
export const PARTIAL_SUFFIX = '.partial';

export interface FileDownloadOptions {
  readonly hub: HubClient;
  readonly hadToken: boolean;
  readonly url: string;
  readonly file: RepoFile;
  /** Final path; the bytes go to `<target>.partial` first. */
  readonly target: string;
  /** Bytes of this file on disk so far (resumed prefix included); called often. */
  readonly onBytes?: (done: number) => void;
  readonly signal?: AbortSignal;
  /** Give up on a connection that delivers nothing for this long (default 60 s); the partial file stays. */
  readonly stallTimeoutMs?: number;
}

export interface FileDownloadResult {
  readonly sha256: string;
  /** Where this run started in the file (0 for a fresh download). */
  readonly resumedFrom: number;
  /** The commit the hub resolved the revision to (`X-Repo-Commit`), when it said. */
  readonly commit: string | undefined;
}

interface Hashes {
  sha256: Hash;
  gitSha1: Hash | undefined;
}

/**
 * Downloads one file, resuming a `.partial` left by an earlier attempt with `Range:`. A
 * server that answers 200 to a Range request sends the whole file, so the partial is
 * restarted from byte 0 with that same body. Size and hashes are checked while streaming;
 * a hash mismatch deletes the partial and throws {@link ChecksumMismatchError}.
 */
export async function downloadFile(options: FileDownloadOptions): Promise<FileDownloadResult> {
  const { file, target } = options;
  const partial = `${target}${PARTIAL_SUFFIX}`;
  await mkdir(dirname(target), { recursive: true });

  let offset = (await stat(partial).catch(() => undefined))?.size ?? 0;
  if (offset > file.size) {
    await rm(partial, { force: true });
    offset = 0;
  }
  let hashes = newHashes(file);
  if (offset > 0) await feedFile(partial, hashesOf(hashes), undefined, options.signal);
  const resumedFrom = offset;
  options.onBytes?.(offset);

  let commit: string | undefined;
  if (offset === 0 || offset < file.size) {
    for (let attempt = 0; ; attempt++) {
      const response = await request(options, offset);
      commit ??= response.headers.get('x-repo-commit') ?? undefined;
      if (response.status === 416 && offset > 0) {
        // The server says our prefix reaches past its end: the file changed; start over.
        await response.body?.cancel().catch(() => undefined);
        if (attempt > 0) throw new ModelDownloadError(`${file.path}: the server refused the byte range twice`, { file: file.path });
        ({ offset, hashes } = await restart(partial, file));
        continue;
      }
      if (!response.ok) {
        await response.body?.cancel().catch(() => undefined);
        throw statusError(response.status, `downloading ${file.path}`, file.path, options.hadToken);
      }
      if (offset > 0 && response.status === 206) {
        const start = contentRangeStart(response.headers.get('content-range'));
        if (start !== offset) {
          await response.body?.cancel().catch(() => undefined);
          if (attempt > 0) throw new ModelDownloadError(`${file.path}: the server answered a different byte range`, { file: file.path });
          ({ offset, hashes } = await restart(partial, file));
          continue;
        }
      } else if (offset > 0) {
        // 200 to a Range request: the body is the whole file. Start the partial over with it.
        ({ offset, hashes } = await restart(partial, file));
      }
      await streamBody(response, partial, offset, hashes, options);
      break;
    }
  }

  const sha256 = hashes.sha256.digest('hex');
  if (file.sha256 !== undefined && sha256 !== file.sha256) {
    await rm(partial, { force: true });
    throw new ChecksumMismatchError(file.path, 'sha256', file.sha256, sha256);
  }
  if (file.gitOid !== undefined && hashes.gitSha1 !== undefined) {
    const oid = hashes.gitSha1.digest('hex');
    if (oid !== file.gitOid) {
      await rm(partial, { force: true });
      throw new ChecksumMismatchError(file.path, 'git-sha1', file.gitOid, oid);
    }
  }
  await rename(partial, target);
  return { sha256, resumedFrom, commit };
}

function newHashes(file: RepoFile): Hashes {
  return { sha256: createHash('sha256'), gitSha1: file.gitOid === undefined ? undefined : createGitBlobHash(file.size) };
}

function hashesOf(hashes: Hashes): Hash[] {
  return hashes.gitSha1 === undefined ? [hashes.sha256] : [hashes.sha256, hashes.gitSha1];
}

async function restart(partial: string, file: RepoFile): Promise<{ offset: number; hashes: Hashes }> {
  await rm(partial, { force: true });
  return { offset: 0, hashes: newHashes(file) };
}

async function request(options: FileDownloadOptions, offset: number): Promise<Response> {
  const headers: Record<string, string> = offset > 0 ? { range: `bytes=${offset}-` } : {};
  return options.hub.get(options.url, headers, options.signal);
}

function contentRangeStart(header: string | null): number | undefined {
  const match = header === null ? null : /^bytes\s+(\d+)-\d+\/(\d+|\*)$/i.exec(header.trim());
  return match === null ? undefined : Number(match[1]);
}

/** Appends the body to the partial file, hashing and counting; keeps what arrived if the connection breaks. */
async function streamBody(response: Response, partial: string, offset: number, hashes: Hashes, options: FileDownloadOptions): Promise<void> {
  const { file } = options;
  const body = response.body;
  let done = offset;
  const handle: FileHandle = await open(partial, offset > 0 ? 'a' : 'w');
  let complete = false;
  const stallMs = options.stallTimeoutMs ?? 60_000;
  let stalled = false;
  let timer: NodeJS.Timeout | undefined;
  const reader = body?.getReader();
  const arm = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      stalled = true;
      void reader?.cancel().catch(() => undefined);
    }, stallMs);
  };
  try {
    if (reader !== undefined) {
      arm();
      for (;;) {
        let chunk;
        try {
          chunk = await reader.read();
        } catch (error) {
          if (options.signal?.aborted) throw error;
          throw new ModelDownloadError(`${file.path}: connection lost after ${done} of ${file.size} bytes (${describe(error)})`, {
            retryable: true,
            file: file.path,
            cause: error,
          });
        }
        if (chunk.done) break;
        arm();
        const bytes = chunk.value;
        if (done + bytes.length > file.size) {
          await reader.cancel().catch(() => undefined);
          await handle.close();
          await rm(partial, { force: true });
          throw new ModelDownloadError(`${file.path}: the server sent more than the ${file.size} bytes the tree lists`, { file: file.path });
        }
        await handle.write(bytes);
        hashes.sha256.update(bytes);
        hashes.gitSha1?.update(bytes);
        done += bytes.length;
        options.onBytes?.(done);
      }
    }
    if (stalled) {
      throw new ModelDownloadError(`${file.path}: no data for ${stallMs >= 1000 ? `${Math.round(stallMs / 1000)} s` : `${stallMs} ms`} after ${done} of ${file.size} bytes`, {
        retryable: true,
        file: file.path,
      });
    }
    if (done < file.size) {
      throw new ModelDownloadError(`${file.path}: connection closed after ${done} of ${file.size} bytes`, { retryable: true, file: file.path });
    }
    await handle.sync();
    complete = true;
  } finally {
    clearTimeout(timer);
    // After an early size failure the handle is already closed; closing twice throws.
    await handle.close().catch(() => undefined);
    if (!complete) await reader?.cancel().catch(() => undefined);
  }
}
