import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';

/** sha256 of a file, streamed; `onBytes` receives each chunk's length (for progress). */
export async function sha256File(path: string, onBytes?: (bytes: number) => void, signal?: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  await feedFile(path, [hash], onBytes, signal);
  return hash.digest('hex');
}

/** Streams a file through hashes (used to pick up a `.partial` file's existing prefix). */
export async function feedFile(
  path: string,
  hashes: readonly Hash[],
  onBytes?: (bytes: number) => void,
  signal?: AbortSignal,
): Promise<void> {
  const stream = createReadStream(path, { highWaterMark: 1024 * 1024, ...(signal === undefined ? {} : { signal }) });
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    for (const hash of hashes) hash.update(chunk);
    onBytes?.(chunk.length);
  }
}

/**
 * A git blob id is sha1("blob <size>\0" + content); the tree API reports it for files stored
 * in git itself (configs, tokenizer files), so those are checked too, not only LFS files.
 */
export function createGitBlobHash(size: number): Hash {
  return createHash('sha1').update(`blob ${size}\0`);
}
