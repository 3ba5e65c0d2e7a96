/**
 * Why a model download failed. `retryable` marks failures worth another attempt (network
 * errors, truncated bodies, 408/429/5xx); a retry resumes from the `.partial` file.
 */
export class ModelDownloadError extends Error {
  override readonly name: string = 'ModelDownloadError';
  readonly retryable: boolean;
  readonly status: number | undefined;
  /** Repository path of the file being fetched, when there was one. */
  readonly file: string | undefined;

  constructor(message: string, options: { retryable?: boolean; status?: number; file?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.retryable = options.retryable ?? false;
    this.status = options.status;
    this.file = options.file;
  }
}

/** The bytes arrived but hash to something else: the partial file is gone, nothing was renamed. */
export class ChecksumMismatchError extends ModelDownloadError {
  override readonly name = 'ChecksumMismatchError';
  readonly expected: string;
  readonly actual: string;
  readonly algorithm: 'sha256' | 'git-sha1';

  constructor(file: string, algorithm: 'sha256' | 'git-sha1', expected: string, actual: string) {
    super(`checksum mismatch for ${file}: expected ${algorithm} ${expected}, got ${actual} (the partial download was deleted; run the pull again)`, {
      file,
    });
    this.algorithm = algorithm;
    this.expected = expected;
    this.actual = actual;
  }
}

/** HTTP statuses worth retrying (the hub and its CDN answer these under load). */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}
