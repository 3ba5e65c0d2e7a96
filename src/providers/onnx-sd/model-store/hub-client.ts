import { z } from 'zod';
import { ModelDownloadError, isRetryableStatus } from './download-errors.js';

/** Default hub; `HF_ENDPOINT` (as in huggingface_hub) overrides it through {@link HubClientOptions.endpoint}. */
export const DEFAULT_HUB_ENDPOINT = 'https://huggingface.co';

export interface HubClientOptions {
  /** Hub base URL without a trailing slash, e.g. https://huggingface.co or a mirror. */
  readonly endpoint?: string;
  /** Access token (HF_TOKEN) for gated or private repositories; sent as a Bearer header, never logged. */
  readonly token?: string;
  readonly fetch?: typeof fetch;
  readonly userAgent?: string;
}

/** One file of a repository revision as the tree API reports it. */
export interface RepoFile {
  readonly path: string;
  readonly size: number;
  /** sha256 of the content, for files stored with Git LFS / Xet (`lfs.oid`). */
  readonly sha256?: string;
  /** Git blob id (sha1 of "blob <size>\0" + content) for files stored in git itself. */
  readonly gitOid?: string;
}

// Only the fields we use of `GET /api/models/{repo}/tree/{revision}` entries:
// {type: "file"|"directory", oid, size, path, lfs?: {oid, size, pointerSize}} (huggingface_hub RepoFile).
const treeEntrySchema = z.object({
  type: z.string(),
  path: z.string(),
  size: z.number().int().nonnegative().optional(),
  oid: z.string().optional(),
  lfs: z.object({ oid: z.string(), size: z.number().int().nonnegative() }).nullish(),
});
const treeSchema = z.array(treeEntrySchema);

const MAX_REDIRECTS = 10;
const SHA256 = /^[0-9a-f]{64}$/;
const SHA1 = /^[0-9a-f]{40}$/;

/** A tiny client for the two hub endpoints a pull needs: the file tree and `resolve`. */
export class HubClient {
  readonly endpoint: string;
  readonly #token: string | undefined;
  readonly #fetch: typeof fetch;
  readonly #userAgent: string;

  constructor(options: HubClientOptions = {}) {
    this.endpoint = (options.endpoint ?? DEFAULT_HUB_ENDPOINT).replace(/\/+$/, '');
    this.#token = options.token === undefined || options.token === '' ? undefined : options.token;
    this.#fetch = options.fetch ?? fetch;
    this.#userAgent = options.userAgent ?? 'aiframe-server-model-store';
  }

  /** Every file of `repo` at `revision` (recursive), following the tree API's `Link: rel="next"` pages. */
  async listFiles(repo: string, revision: string, signal?: AbortSignal): Promise<RepoFile[]> {
    const files: RepoFile[] = [];
    let url: string | undefined = `${this.endpoint}/api/models/${encodeRepo(repo)}/tree/${encodeURIComponent(revision)}?recursive=true`;
    for (let page = 0; url !== undefined; page++) {
      if (page > 1000) throw new ModelDownloadError(`${repo}: too many tree pages`);
      const response = await this.get(url, {}, signal);
      if (!response.ok) {
        await response.body?.cancel().catch(() => undefined);
        throw statusError(response.status, `listing ${repo}@${revision}`, undefined, this.#token !== undefined);
      }
      const parsed = treeSchema.safeParse(await response.json().catch(() => undefined));
      if (!parsed.success) throw new ModelDownloadError(`${repo}@${revision}: unexpected tree API answer from ${this.endpoint}`);
      for (const entry of parsed.data) {
        if (entry.type !== 'file') continue;
        const size = entry.lfs?.size ?? entry.size;
        if (size === undefined) throw new ModelDownloadError(`${repo}: tree entry ${entry.path} has no size`);
        const sha256 = entry.lfs?.oid.replace(/^sha256:/, '').toLowerCase();
        files.push({
          path: entry.path,
          size,
          ...(sha256 !== undefined && SHA256.test(sha256) ? { sha256 } : {}),
          ...(entry.lfs == null && entry.oid !== undefined && SHA1.test(entry.oid) ? { gitOid: entry.oid } : {}),
        });
      }
      url = nextLink(response.headers.get('link'), url);
    }
    return files;
  }

  /** `{endpoint}/{repo}/resolve/{revision}/{path}`: the file's bytes (the hub redirects LFS files to a CDN). */
  resolveUrl(repo: string, revision: string, path: string): string {
    const encodedPath = path.split('/').map(encodeURIComponent).join('/');
    return `${this.endpoint}/${encodeRepo(repo)}/resolve/${encodeURIComponent(revision)}/${encodedPath}`;
  }

  /**
   * GET following redirects by hand, so the token goes only to the hub's own origin and never
   * to the storage host a redirect points at (its URL is already signed).
   */
  async get(url: string, headers: Record<string, string>, signal?: AbortSignal): Promise<Response> {
    const origin = new URL(this.endpoint).origin;
    let current = url;
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      const sameOrigin = new URL(current).origin === origin;
      let response: Response;
      try {
        response = await this.#fetch(current, {
          headers: {
            'user-agent': this.#userAgent,
            // Compressed bodies would break Range offsets and size checks.
            'accept-encoding': 'identity',
            ...headers,
            ...(sameOrigin && this.#token !== undefined ? { authorization: `Bearer ${this.#token}` } : {}),
          },
          redirect: 'manual',
          ...(signal === undefined ? {} : { signal }),
        });
      } catch (error) {
        if (signal?.aborted) throw error;
        throw new ModelDownloadError(`cannot reach ${new URL(current).host}: ${describe(error)}`, { retryable: true, cause: error });
      }
      const location = response.headers.get('location');
      if (response.status >= 300 && response.status < 400 && location !== null) {
        await response.body?.cancel().catch(() => undefined);
        current = new URL(location, current).toString();
        continue;
      }
      return response;
    }
    throw new ModelDownloadError(`too many redirects from ${url}`);
  }
}

/** The error for a non-2xx answer, worded so a user knows what to do. */
export function statusError(status: number, what: string, file: string | undefined, hadToken: boolean): ModelDownloadError {
  let hint = '';
  if (status === 401 || status === 403) {
    hint = hadToken
      ? ' (the token was refused or lacks access; accept the model licence on its hub page)'
      : ' (gated or private repository: set HF_TOKEN to an access token)';
  } else if (status === 404) {
    hint = ' (no such repository, revision or file)';
  }
  return new ModelDownloadError(`${what}: HTTP ${status}${hint}`, {
    status,
    retryable: isRetryableStatus(status),
    ...(file === undefined ? {} : { file }),
  });
}

function encodeRepo(repo: string): string {
  return repo.split('/').map(encodeURIComponent).join('/');
}

function nextLink(header: string | null, base: string): string | undefined {
  if (header === null) return undefined;
  for (const part of header.split(',')) {
    const match = /<([^>]+)>\s*;(.*)/.exec(part.trim());
    if (match !== null && /rel="?next"?/.test(match[2] ?? '')) return new URL(match[1]!, base).toString();
  }
  return undefined;
}

export function describe(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code !== undefined) return `${cause.code}${cause.message ? ` ${cause.message}` : ''}`;
  return (error as Error).message ?? String(error);
}
